/**
 * `podns describe POD`: kubectl describe pod's page, from what podns recorded: the pod's identity and status,
 * each container's state, last state, readiness, restarts, resources, probes, environment and mounts, the
 * conditions, the volumes and the pod's events. For people; `podns inspect` is the JSON for programs.
 */
import { UserError } from '../../errors.js';
import os from 'node:os';
import type { ContainerSpec, Probe, VolumeSpec } from '../../manifest/types.js';
import { formatCpu, formatMemory } from '../../manifest/pod-resources.js';
import { readEvents, type PodEvent } from '../../state/events.js';
import type { Roots } from '../../state/paths.js';
import { kubeContainerState, type ContainerState, type PodState } from '../../state/pod-state.js';
import { formatColumns } from '../columns.js';
import { findPod, type PodRecord } from '../pod-lookup.js';
import { formatAge } from '../columns.js';
import { podStatus } from './ps.js';
import { compareStrings } from '../../state/compare.js';

/** kubectl's time format: RFC 1123 with a numeric zone (Mon, 02 Jan 2006 15:04:05 -0700), in UTC here. */
function when(iso: string | undefined): string {
  if (!iso) return '<unknown>';
  return new Date(iso).toUTCString().replace('GMT', '+0000');
}

function keyValues(map: Record<string, string> | undefined, indent: string): string {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => compareStrings(a, b));
  if (!entries.length) return '<none>';
  return entries.map(([k, v], i) => `${i ? indent : ''}${k}=${v}`).join('\n');
}

/** A probe as kubectl prints it: `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function describeProbe(p: Probe): string {
  let action: string;
  if ('exec' in p) action = `exec [${p.exec.command.join(' ')}]`;
  else if ('httpGet' in p) action = `http-get http://${p.httpGet.host ?? ''}:${p.httpGet.port}${p.httpGet.path}`;
  else if ('grpc' in p) action = `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''}`.trimEnd();
  else action = `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port}`;
  return `${action} delay=${p.initialDelaySeconds}s timeout=${p.timeoutSeconds}s period=${p.periodSeconds}s #success=${p.successThreshold} #failure=${p.failureThreshold}`;
}

function describeVolume(v: VolumeSpec): string[] {
  if ('emptyDir' in v) {
    return ['Type:       EmptyDir (a temporary directory that shares a pod\'s lifetime)', `Medium:     ${v.emptyDir.medium}`, `SizeLimit:  ${v.emptyDir.sizeLimit ?? '<unset>'}`];
  }
  if ('hostPath' in v) return ['Type:          HostPath (bare host directory volume)', `Path:          ${v.hostPath.path}`, `HostPathType:  ${v.hostPath.type}`];
  if ('configMap' in v) return ['Type:      ConfigMap (a volume populated by a ConfigMap)', `Name:      ${v.configMap.name}`, `Optional:  ${v.configMap.optional}`];
  if ('secret' in v) return ['Type:        Secret (a volume populated by a Secret)', `SecretName:  ${v.secret.name}`, `Optional:    ${v.secret.optional}`];
  const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
  return [`Type:  ${kind}`];
}

function containerState(lines: string[], label: string, c: ContainerState, last?: ContainerState['lastState']): void {
  const pad = (s: string) => s.padEnd(16);
  if (last) {
    const t = last.terminated;
    lines.push(`    ${pad('Last State:')}Terminated`, `      Reason:       ${t.reason ?? 'Error'}`);
    if (t.message) lines.push(`      Message:      ${t.message.trimEnd()}`);
    lines.push(`      Exit Code:    ${t.exitCode}`, `      Started:      ${when(t.startedAt)}`, `      Finished:     ${when(t.finishedAt)}`);
    return;
  }
  const state = kubeContainerState(c);
  if ('running' in state) {
    lines.push(`    ${pad(label)}Running`, `      Started:      ${when(state.running.startedAt)}`);
  } else if ('waiting' in state) {
    lines.push(`    ${pad(label)}Waiting`, `      Reason:       ${state.waiting.reason}`);
    if (state.waiting.message) lines.push(`      Message:      ${state.waiting.message}`);
  } else {
    const t = state.terminated;
    lines.push(`    ${pad(label)}Terminated`, `      Reason:       ${t.reason ?? 'Error'}`);
    if (t.message) lines.push(`      Message:      ${t.message.trimEnd()}`);
    lines.push(`      Exit Code:    ${t.exitCode}`);
    if (t.signal) lines.push(`      Signal:       ${t.signal}`);
    lines.push(`      Started:      ${when(t.startedAt)}`, `      Finished:     ${when(t.finishedAt)}`);
  }
}

function describeContainer(lines: string[], c: ContainerState, spec: ContainerSpec | undefined): void {
  lines.push(`  ${c.name}:`);
  lines.push(`    Container ID:   ${c.process ? `podns://${c.process.pid}` : ''}`);
  lines.push(`    Image:          ${c.image}`, `    Image ID:       ${c.imageId}`);
  const ports = spec?.ports ?? [];
  lines.push(`    ${ports.length > 1 ? 'Ports:    ' : 'Port:     '}      ${ports.length ? ports.map((p) => `${p.containerPort}/${p.protocol}`).join(', ') : '<none>'}`);
  lines.push(`    ${ports.length > 1 ? 'Host Ports:' : 'Host Port:'}      ${ports.length ? ports.map((p) => `${p.hostPort ?? 0}/${p.protocol}`).join(', ') : '<none>'}`);
  lines.push(`    Command:        ${c.spec.argv.map((a) => JSON.stringify(a)).join(' ')}`);
  containerState(lines, 'State:', c);
  if (c.lastState) containerState(lines, 'Last State:', c, c.lastState);
  lines.push(`    Ready:          ${c.ready ? 'True' : 'False'}`, `    Restart Count:  ${c.restartCount}`);
  if (spec?.restartPolicy) lines.push(`    Restart Policy: ${spec.restartPolicy} (sidecar)`);
  for (const kind of ['limits', 'requests'] as const) {
    const r = spec?.resources?.[kind];
    if (!r || (r.cpu === undefined && r.memory === undefined)) continue;
    lines.push(`    ${kind === 'limits' ? 'Limits' : 'Requests'}:`);
    if (r.cpu !== undefined) lines.push(`      cpu:     ${formatCpu(r.cpu)}`);
    if (r.memory !== undefined) lines.push(`      memory:  ${formatMemory(r.memory)}`);
  }
  const probes: [string, Probe | undefined][] = [['Liveness', spec?.livenessProbe], ['Readiness', spec?.readinessProbe], ['Startup', spec?.startupProbe]];
  for (const [label, p] of probes) if (p) lines.push(`    ${`${label}:`.padEnd(16)}${describeProbe(p)}`);
  const env = c.spec.env.filter((e) => !e.startsWith('PATH=') && !e.startsWith('HOSTNAME='));
  lines.push(`    Environment:${env.length ? '' : '    <none>'}`);
  for (const e of env) {
    const eq = e.indexOf('=');
    lines.push(`      ${e.slice(0, eq)}:  ${e.slice(eq + 1)}`);
  }
  const mounts = spec?.volumeMounts ?? [];
  lines.push(`    Mounts:${mounts.length ? '' : '         <none>'}`);
  for (const m of mounts) lines.push(`      ${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'}${m.subPath ? `,path="${m.subPath}"` : ''})`);
}

export function describePod(record: PodRecord, now = Date.now(), events: PodEvent[] = []): string {
  if (!record.spec) throw new UserError('ECRI', `pod "${record.state?.name ?? record.paths.id}" is kubelet's (made over the CRI): its spec is kubelet's; see podns inspect, or kubectl describe`);
  const { pod } = record.spec;
  const state: PodState | undefined = record.state;
  const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const lines: string[] = [];
  const field = (label: string, value: string) => lines.push(`${`${label}:`.padEnd(18)}${value}`);
  field('Name', pod.metadata.name);
  field('Namespace', pod.metadata.namespace);
  field('Node', os.hostname());
  field('Start Time', when(state?.createdAt));
  field('Labels', keyValues(pod.metadata.labels, ' '.repeat(18)));
  field('Annotations', keyValues(pod.metadata.annotations, ' '.repeat(18)));
  field('Status', state ? podStatus(state) : 'Creating');
  if (state?.reason) field('Reason', state.reason);
  if (state?.message) field('Message', state.message);
  field('IP', state?.podIP ?? '');
  field('Pause', state?.pause ? `pid ${state.pause.pid}` : state?.infra === 'none' ? '<none> (--infra=none)' : '');
  const sections: [string, ContainerState[]][] = [
    ['Init Containers', state?.initContainers ?? []],
    ['Containers', state?.containers ?? []],
  ];
  for (const [title, list] of sections) {
    if (!list.length) continue;
    lines.push(`${title}:`);
    for (const c of list) describeContainer(lines, c, specs.find((s) => s.name === c.name));
  }
  if (state?.conditions?.length) {
    lines.push('Conditions:');
    lines.push(
      formatColumns([['Type', 'Status'], ...state.conditions.map((c) => [c.type, c.status])])
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  lines.push(`Volumes:${pod.spec.volumes.length ? '' : '          <none>'}`);
  for (const v of pod.spec.volumes) lines.push(`  ${v.name}:`, ...describeVolume(v).map((l) => `    ${l}`));
  field('QoS Class', qosClass(specs, pod.spec.resources));
  if (!events.length) {
    lines.push('Events:           <none>');
  } else {
    lines.push('Events:');
    const rows = [['Type', 'Reason', 'Age', 'From', 'Message'], ['----', '------', '----', '----', '-------'], ...events.map((e) => [e.type, e.reason, formatAge(e.time, now), 'podns', e.message])];
    lines.push(...formatColumns(rows).trimEnd().split('\n').map((l) => `  ${l}`));
  }
  return lines.join('\n') + '\n';
}

/**
 * Kubernetes' QoS classes: Guaranteed (every container's cpu and memory limits = requests), BestEffort (none),
 * else Burstable; with pod-level resources, the pod's own cpu and memory decide (KEP-2837).
 */
export function qosClass(containers: ContainerSpec[], podLevel?: ContainerSpec['resources']): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  if (podLevel) {
    const { limits, requests } = podLevel;
    return limits.cpu !== undefined && limits.memory !== undefined && requests.cpu === limits.cpu && requests.memory === limits.memory ? 'Guaranteed' : 'Burstable';
  }
  const any = containers.some((c) => Object.values(c.resources?.limits ?? {}).some((v) => v !== undefined) || Object.values(c.resources?.requests ?? {}).some((v) => v !== undefined));
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? {};
    return l.cpu !== undefined && l.memory !== undefined && r.cpu === l.cpu && r.memory === l.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function describeCommand(roots: Roots, namespace: string, name: string): string {
  const record = findPod(roots, namespace, name);
  return describePod(record, Date.now(), readEvents(record.paths.eventsFile));
}
