// Authentication by bearer token: the admin token (full access, as system:masters) and any users a test
// adds, e.g. a CI ServiceAccount whose requests the RBAC authorizer then judges.
import type { SimUser, UserInfo } from './authorizer.ts';

export interface Identity extends UserInfo {
  /** system:masters: every request is allowed (injected Forbidden faults still apply). */
  readonly admin: boolean;
}

export class Users {
  private readonly byToken = new Map<string, SimUser>();
  private readonly adminIdentity: Identity;

  constructor(
    private readonly adminToken: string,
    adminName: string,
  ) {
    this.adminIdentity = { name: adminName, groups: ['system:masters', 'system:authenticated'], admin: true };
  }

  add(user: SimUser): void {
    if (user.token === this.adminToken) throw new Error('a user may not share the admin token');
    this.byToken.set(user.token, user);
  }

  remove(token: string): void {
    this.byToken.delete(token);
  }

  /** Undefined for an unknown token (401). No Authorization header at all is the admin, as before. */
  authenticate(authorization: string | undefined): Identity | undefined {
    if (authorization === undefined || authorization === `Bearer ${this.adminToken}`)
      return this.adminIdentity;
    const token = /^Bearer (.+)$/.exec(authorization)?.[1];
    const user = token !== undefined ? this.byToken.get(token) : undefined;
    return user ? { name: user.name, groups: user.groups, admin: false } : undefined;
  }
}
