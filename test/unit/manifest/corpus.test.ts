/**
 * The bad-manifest corpus (issue 3): each file in corpus/ is one small mistake, and the table holds the exact
 * one-line message podns gives for it, `FILE:LINE: PATH: message` (or `FILE: message` where no line applies).
 * A changed message is a reviewed change: update the table, not the file.
 */

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManifestError } from '../../../src/errors.js';
import { loadManifests } from '../../../src/manifest/load-manifest.js';

const DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

const CORPUS: [file: string, message: string][] = [
  ['01-tab-indent.yaml', '01-tab-indent.yaml:4: yaml: Tabs are not allowed as indentation'],
  ['02-bad-indentation.yaml', '02-bad-indentation.yaml:7: yaml: Nested mappings are not allowed in compact mappings (is the next line indented too far?)'],
  ['03-unclosed-quote.yaml', '03-unclosed-quote.yaml:4: yaml: Missing closing "quote (the quoted string starts on this line)'],
  ['04-unclosed-bracket.yaml', '04-unclosed-bracket.yaml:9: yaml: Flow sequence in block collection must be sufficiently indented and end with a ] (the [ starts on this line)'],
  ['05-unclosed-brace.yaml', '05-unclosed-brace.yaml:10: yaml: Flow map in block collection must be sufficiently indented and end with a } (the { starts on this line)'],
  ['06-duplicate-key.yaml', '06-duplicate-key.yaml:9: yaml: Map keys must be unique'],
  ['07-empty-file.yaml', '07-empty-file.yaml: no Pod found (the file has no documents)'],
  ['08-only-comments.yaml', '08-only-comments.yaml: no Pod found (the file has no documents)'],
  ['09-top-level-list.yaml', '09-top-level-list.yaml:1: a document must be a mapping (an object with apiVersion, kind, metadata and spec)'],
  ['10-wrong-kind.yaml', '10-wrong-kind.yaml:2: kind CronJob is not supported (only Pod, ConfigMap, Secret, Deployment, ReplicaSet, DaemonSet, StatefulSet, Job)'],
  ['11-wrong-apiversion.yaml', '11-wrong-apiversion.yaml:1: apiVersion: must be "v1" for a Pod, got "v1beta1"'],
  ['12-missing-kind.yaml', '12-missing-kind.yaml:1: kind: required value'],
  ['13-missing-containers.yaml', '13-missing-containers.yaml:5: spec.containers: required value'],
  ['14-empty-containers.yaml', '14-empty-containers.yaml:6: spec.containers: required value: at least one container'],
  ['15-missing-container-name.yaml', '15-missing-container-name.yaml:7: spec.containers[0].name: required value'],
  ['16-missing-image.yaml', '16-missing-image.yaml:7: spec.containers[0].image: required value'],
  ['17-missing-metadata-name.yaml', '17-missing-metadata-name.yaml:3: metadata.name: required value: name or generateName is required'],
  ['18-string-for-int.yaml', '18-string-for-int.yaml:10: spec.containers[0].ports[0].containerPort: must be an integer, got string "80"'],
  ['19-int-for-string.yaml', '19-int-for-string.yaml:11: spec.containers[0].env[0].value: must be a string, got number 8080 (quote it: "8080")'],
  ['20-map-for-list.yaml', '20-map-for-list.yaml:6: spec.containers: must be a list, got a mapping'],
  ['21-list-for-map.yaml', '21-list-for-map.yaml:5: metadata.labels: must be a mapping of strings, got a list'],
  ['22-yes-for-bool.yaml', '22-yes-for-bool.yaml:9: spec.shareProcessNamespace: must be a boolean (true or false), got string "yes"'],
  ['23-unknown-metadata-field.yaml', '23-unknown-metadata-field.yaml:5: metadata: unknown field "namspace" (did you mean "namespace"?)'],
  ['24-unknown-spec-field.yaml', '24-unknown-spec-field.yaml:6: spec: unknown field "containres" (did you mean "containers"?)'],
  ['25-unknown-container-field.yaml', '25-unknown-container-field.yaml:9: spec.containers[0]: unknown field "imagePullPolicey" (did you mean "imagePullPolicy"?)'],
  ['26-unknown-volume-field.yaml', '26-unknown-volume-field.yaml:11: spec.volumes[0]: unknown field "emptydir" (did you mean "emptyDir"?)'],
  ['27-unknown-volumemount-field.yaml', '27-unknown-volumemount-field.yaml:11: spec.containers[0].volumeMounts[0]: unknown field "mountpath" (did you mean "mountPath"?)'],
  ['28-unknown-port-field.yaml', '28-unknown-port-field.yaml:10: spec.containers[0].ports[0]: unknown field "port"'],
  ['29-unknown-env-field.yaml', '29-unknown-env-field.yaml:11: spec.containers[0].env[0]: unknown field "vaule" (did you mean "value"?)'],
  ['30-unknown-securitycontext-field.yaml', '30-unknown-securitycontext-field.yaml:10: spec.containers[0].securityContext: unknown field "readOnlyRootFileSystem" (did you mean "readOnlyRootFilesystem"?)'],
  ['31-unknown-capabilities-field.yaml', '31-unknown-capabilities-field.yaml:11: spec.containers[0].securityContext.capabilities: unknown field "adds" (did you mean "add"?)'],
  ['32-bad-pod-name.yaml', `32-bad-pod-name.yaml:4: metadata.name: invalid value "Web_Server": must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)`],
  ['33-bad-container-name.yaml', `33-bad-container-name.yaml:7: spec.containers[0].name: invalid value "app.v2": must be a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit)`],
  ['34-bad-volume-name.yaml', `34-bad-volume-name.yaml:10: spec.volumes[0].name: invalid value "Data": must be a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit)`],
  ['35-bad-port-name.yaml', '35-bad-port-name.yaml:11: spec.containers[0].ports[0].name: invalid value "http-web-server-1": must be no more than 15 characters'],
  ['36-bad-env-name.yaml', '36-bad-env-name.yaml:10: spec.containers[0].env[0].name: invalid value "": must not be empty'],
  ['37-port-zero.yaml', '37-port-zero.yaml:10: spec.containers[0].ports[0].containerPort: invalid value 0: must be between 1 and 65535, inclusive'],
  ['38-port-too-big.yaml', '38-port-too-big.yaml:10: spec.containers[0].ports[0].containerPort: invalid value 65536: must be between 1 and 65535, inclusive'],
  ['39-bad-protocol.yaml', '39-bad-protocol.yaml:11: spec.containers[0].ports[0].protocol: unsupported value "DNS": must be one of "TCP", "UDP", "SCTP"'],
  ['40-duplicate-port-name.yaml', '40-duplicate-port-name.yaml:13: spec.containers[0].ports[1].name: duplicate port name "http" (first at line 11)'],
  ['41-sizelimit-1gb.yaml', '41-sizelimit-1gb.yaml:12: spec.volumes[0].emptyDir.sizeLimit: invalid quantity "1GB" (expected a number with an optional suffix such as 128Mi, 1G, 500m or 1e3)'],
  ['42-sizelimit-negative.yaml', '42-sizelimit-negative.yaml:12: spec.volumes[0].emptyDir.sizeLimit: invalid value "-1Mi": must be greater than or equal to 0'],
  ['43-duplicate-container-name.yaml', '43-duplicate-container-name.yaml:9: spec.containers[1].name: duplicate container name "app" (first at line 7)'],
  ['44-duplicate-volume-name.yaml', '44-duplicate-volume-name.yaml:12: spec.volumes[1].name: duplicate volume name "data" (first at line 10)'],
  ['45-missing-volume.yaml', '45-missing-volume.yaml:10: spec.containers[0].volumeMounts[0].name: not found: no volume named "data" in spec.volumes'],
  ['46-mountpath-collision.yaml', '46-mountpath-collision.yaml:13: spec.containers[0].volumeMounts[1].mountPath: duplicate mountPath "/data" (first at line 11)'],
  ['47-relative-mountpath.yaml', '47-relative-mountpath.yaml:11: spec.containers[0].volumeMounts[0].mountPath: invalid value "data": must be an absolute path'],
  ['48-subpath-dotdot.yaml', `48-subpath-dotdot.yaml:12: spec.containers[0].volumeMounts[0].subPath: invalid value "logs/../../etc": must not contain '..'`],
  ['49-non-namespaced-sysctl.yaml', '49-non-namespaced-sysctl.yaml:13: spec.securityContext.sysctls[1].name: sysctl "vm.swappiness" is not namespaced: podns can set only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.*)'],
  ['50-privileged-no-escalation.yaml', '50-privileged-no-escalation.yaml:11: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `privileged` to true'],
  ['51-unknown-capability.yaml', '51-unknown-capability.yaml:11: spec.containers[0].securityContext.capabilities.add[1]: unknown capability "SYS_NICEE" (did you mean "SYS_NICE"?)'],
  ['52-localhost-seccomp-no-profile.yaml', '52-localhost-seccomp-no-profile.yaml:10: spec.securityContext.seccompProfile.localhostProfile: required value: must be set when seccomp type is Localhost'],
  ['53-run-as-user-negative.yaml', '53-run-as-user-negative.yaml:10: spec.containers[0].securityContext.runAsUser: invalid value -1: must be between 0 and 2147483647, inclusive'],
  ['54-rejected-field.yaml', '54-rejected-field.yaml:9: spec.containers[0].volumeDevices: not supported by podns yet'],
  ['55-second-document-bad.yaml', '55-second-document-bad.yaml:18: spec.containers[0].workingDir: invalid value "srv": must be an absolute path'],
  ['56-undefined-alias.yaml', '56-undefined-alias.yaml:9: yaml: unknown alias "*cmd" (no anchor &cmd before it)'],
  ['57-json-missing-comma.yaml', '57-json-missing-comma.yaml:4: yaml: Missing , between flow map items'],
  ['58-duplicate-pod.yaml', '58-duplicate-pod.yaml:13: metadata.name: duplicate pod "default/web" (first at line 4)'],
  ['59-missing-spec.yaml', '59-missing-spec.yaml:1: spec: required value'],
  ['60-bad-label-value.yaml', `60-bad-label-value.yaml:6: metadata.labels[tier]: invalid value "-front-": must be empty or consist of alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`],
  ['61-scalar-document.yaml', '61-scalar-document.yaml:1: a document must be a mapping (an object with apiVersion, kind, metadata and spec)'],
  ['62-cap-sys-admin-no-escalation.yaml', '62-cap-sys-admin-no-escalation.yaml:10: spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'],
  ['63-bad-seccomp-type.yaml', '63-bad-seccomp-type.yaml:11: spec.containers[0].securityContext.seccompProfile.type: unsupported value "runtime/default": must be one of "RuntimeDefault", "Localhost", "Unconfined"'],
  ['64-hostpath-relative.yaml', '64-hostpath-relative.yaml:12: spec.volumes[0].hostPath.path: invalid value "var/log": must be an absolute path'],
  ['65-null-container.yaml', '65-null-container.yaml:7: spec.containers[0]: must be a mapping, got null'],
  ['66-probe-port-quoted-number.yaml', '66-probe-port-quoted-number.yaml:14: spec.containers[0].livenessProbe.httpGet.port: invalid value "8080": must contain at least one letter (a-z) (a string is a port name; for port number 8080, drop the quotes)'],
  ['67-probe-port-bad-name.yaml', '67-probe-port-bad-name.yaml:12: spec.containers[0].readinessProbe.tcpSocket.port: invalid value "http--alt": must not contain consecutive hyphens'],
  ['68-hook-port-unknown-name.yaml', '68-hook-port-unknown-name.yaml:13: spec.containers[0].lifecycle.postStart.httpGet.port: invalid value "metrics": the container has no port named "metrics"'],
  ['69-probe-port-float.yaml', '69-probe-port-float.yaml:13: spec.containers[0].startupProbe.tcpSocket.port: must be an integer or a string, got number 80.5'],
  ['70-hook-port-quoted-number.yaml', '70-hook-port-quoted-number.yaml:14: spec.containers[0].lifecycle.preStop.httpGet.port: invalid value "80": must contain at least one letter (a-z) (a string is a port name; for port number 80, drop the quotes)'],
];

describe('the bad-manifest corpus', () => {
  it('has a message for every file, and a file for every message', () => {
    expect(CORPUS.map(([file]) => file)).toEqual(readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort());
    expect(CORPUS.length).toBeGreaterThanOrEqual(45);
  });

  it.each(CORPUS)('%s', async (file, message) => {
    const err: unknown = await loadManifests(`${DIR}${file}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ManifestError);
    const text = (err as ManifestError).message;
    expect(text).not.toMatch(/[\r\n]/);
    expect(text.startsWith(DIR)).toBe(true);
    expect(text.slice(DIR.length)).toBe(message);
    expect(message).toMatch(/^\d\d-[a-z0-9-]+\.yaml(:\d+)?: /);
  });
});
