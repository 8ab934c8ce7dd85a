import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bridgeMasquerades,
  buildCniConf,
  flannelPlugin,
  parseCniConf,
  portmapPlugin,
  serializeCniConf,
} from '../../src/flannel/cni-conf.ts';

const UPSTREAM = `{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
`;

test('the default conflist is byte-for-byte the upstream one', () => {
  assert.equal(serializeCniConf(buildCniConf()), UPSTREAM);
  assert.deepEqual(parseCniConf(UPSTREAM), buildCniConf());
});

test('round trip keeps unknown keys and extra plugins, in upstream layout', () => {
  const text = JSON.stringify({
    plugins: [
      { delegate: { mtu: 1400, isDefaultGateway: false, ipMasq: true, hairpinMode: false }, type: 'flannel' },
      { capabilities: { portMappings: true }, type: 'portmap', snat: true },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
    cniVersion: '1.0.0',
    name: 'cbr0',
    disableCheck: true,
  });
  const conf = parseCniConf(text);
  const out = serializeCniConf(conf);
  assert.deepEqual(parseCniConf(out), conf);
  assert.ok(
    out.startsWith(
      '{\n  "name": "cbr0",\n  "cniVersion": "1.0.0",\n  "plugins": [\n    {\n      "type": "flannel",',
    ),
  );
  assert.match(
    out,
    /"delegate": \{\n\s+"hairpinMode": false,\n\s+"isDefaultGateway": false,\n\s+"mtu": 1400,/,
  );
  assert.deepEqual(flannelPlugin(conf)?.delegate, {
    mtu: 1400,
    isDefaultGateway: false,
    ipMasq: true,
    hairpinMode: false,
  });
  assert.equal(portmapPlugin(conf)?.snat, true);
  assert.equal(conf.disableCheck, true);
});

test('hairpin and default gateway can be turned off', () => {
  assert.deepEqual(flannelPlugin(buildCniConf({ hairpin: false, defaultGateway: false }))?.delegate, {
    hairpinMode: false,
    isDefaultGateway: false,
  });
});

test('a file that is not a conflist is a clear usage error', () => {
  assert.throws(
    () => parseCniConf('{"name":"cbr0","cniVersion":"0.3.1","type":"flannel"}', '10-flannel.conf'),
    {
      name: 'UsageError',
      message: '10-flannel.conf: "plugins" must be a list (a conflist)',
    },
  );
  assert.throws(() => parseCniConf('{"name":"x","cniVersion":"0.3.1","plugins":[{}]}'), {
    message: 'cni-conf.json: plugins[0] must be an object with a "type"',
  });
  assert.throws(() => parseCniConf('{"plugins":[]'), { message: /^cni-conf\.json: invalid JSON at line 1/ });
});

// Upstream rule: flannel-io/cni-plugin flannel_linux.go doCmdAdd sets the delegate's ipMasq to
// !FLANNEL_IPMASQ only when the key is absent; the bridge plugin then SNATs everything leaving the
// pod's own subnet (containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go).
test('the bridge masquerades pod-to-pod traffic when flanneld does not and the delegate does not forbid it', () => {
  assert.equal(bridgeMasquerades({ hairpinMode: true }, false), true);
  assert.equal(bridgeMasquerades(undefined, false), true);
  assert.equal(bridgeMasquerades({ ipMasq: false }, false), false);
  assert.equal(bridgeMasquerades({ hairpinMode: true }, true), false);
  assert.equal(bridgeMasquerades({ ipMasq: true }, true), true);
  assert.deepEqual(flannelPlugin(buildCniConf({ ipMasq: false }))?.delegate, {
    hairpinMode: true,
    isDefaultGateway: true,
    ipMasq: false,
  });
});
