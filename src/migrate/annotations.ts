// Where migrate keeps what must survive a crash: on the flannel ConfigMap itself, so any operator
// (or a second run from another workstation) finds it next to the configuration it protects.
export const MIGRATE_ANNOTATION_PREFIX = 'flannelctl.io';
/** The net-conf.json text from before the migration, byte for byte: what rollback restores. */
export const BACKUP_ANNOTATION = `${MIGRATE_ANNOTATION_PREFIX}/net-conf-backup`;
/** JSON MigrationState: which migration is under way and how far it got. */
export const STATE_ANNOTATION = `${MIGRATE_ANNOTATION_PREFIX}/migration`;
