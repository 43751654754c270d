import { describe, expect, it } from 'vitest';
import { parseNatTable, planRemoveContainerRules, portmapPorts } from '../../../src/network/cni-iptables.js';
import { NAT_SAVE } from './cni-nat-fixture.js';

describe('the CNI plugins in the nat table (iptables-save)', () => {
  const table = parseNatTable(NAT_SAVE);

  it('reads chains, rules and the attachment a plugin tagged a rule with, quotes and escapes undone', () => {
    expect(table.chains).toContain('CNI-DN-54ca471367d3650ea83ce');
    const jump = table.rules.find((r) => r.chain === 'POSTROUTING' && r.owner?.containerId === 'ghost')!;
    expect(jump).toEqual({
      chain: 'POSTROUTING',
      spec: '-s 10.89.0.2/32 -m comment --comment "name: \\"podns\\" id: \\"ghost\\"" -j CNI-54ca471367d3650ea83ce0d4',
      args: ['-s', '10.89.0.2/32', '-m', 'comment', '--comment', 'name: "podns" id: "ghost"', '-j', 'CNI-54ca471367d3650ea83ce0d4'],
      target: 'CNI-54ca471367d3650ea83ce0d4',
      owner: { network: 'podns', containerId: 'ghost' },
    });
    expect(table.rules.find((r) => r.chain === 'CNI-HOSTPORT-DNAT' && r.owner?.containerId === 'abc')!.owner).toEqual({ network: 'k8s', containerId: 'abc' });
    // The untagged rules: no owner.
    expect(table.rules.filter((r) => r.chain === 'CNI-HOSTPORT-MASQ').map((r) => r.owner)).toEqual([undefined]);
  });

  it("portmap's published ports: the DNAT rules of each container's chain, with its address when it has one", () => {
    expect(portmapPorts(table)).toEqual([
      { protocol: 'tcp', hostPort: 8080, hostIP: '', network: 'podns', containerId: 'ghost' },
      { protocol: 'udp', hostPort: 5353, hostIP: '127.0.0.1', network: 'podns', containerId: 'ghost' },
      { protocol: 'tcp', hostPort: 8081, hostIP: '', network: 'podns', containerId: 'web' },
      { protocol: 'tcp', hostPort: 9090, hostIP: '', network: 'k8s', containerId: 'abc' },
    ]);
  });

  it("removing a container's rules: the tagged jumps out of the shared chains, then its own chains flushed and deleted", () => {
    const plan = planRemoveContainerRules(table, (o) => o.network === 'podns' && o.containerId === 'ghost')!;
    expect(plan.restore).toBe(
      [
        '*nat',
        '-D POSTROUTING -s 10.89.0.2/32 -m comment --comment "name: \\"podns\\" id: \\"ghost\\"" -j CNI-54ca471367d3650ea83ce0d4',
        '-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"podns\\" id: \\"ghost\\"" -m multiport --dports 8080 -j CNI-DN-54ca471367d3650ea83ce',
        '-D CNI-HOSTPORT-DNAT -p udp -m comment --comment "dnat name: \\"podns\\" id: \\"ghost\\"" -m multiport --dports 5353 -j CNI-DN-54ca471367d3650ea83ce',
        '-F CNI-54ca471367d3650ea83ce0d4',
        '-X CNI-54ca471367d3650ea83ce0d4',
        '-F CNI-DN-54ca471367d3650ea83ce',
        '-X CNI-DN-54ca471367d3650ea83ce',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(plan.chainsOf).toEqual(new Map([['ghost', ['CNI-54ca471367d3650ea83ce0d4', 'CNI-DN-54ca471367d3650ea83ce']]]));
    expect(planRemoveContainerRules(table, (o) => o.containerId === 'nobody')).toBeUndefined();
  });
});
