import { describe, expect, it } from 'vitest';
import { SysError, UserError } from '../../src/errors.js';
import { permissionDenied, rootRequired, sudoLine } from '../../src/cli/privilege.js';

describe('without root', () => {
  it('rootRequired says why, and the same command line under sudo', () => {
    const err = rootRequired(['image', 'rm'], 'it changes the image store', ['--root', '/r', 'image', 'rm', 'busybox']);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('image rm needs root: it changes the image store; try sudo podns --root /r image rm busybox');
  });

  it('sudoLine quotes what a shell would split or expand, and only that', () => {
    expect(sudoLine(['exec', 'web', '--', 'sh', '-c', "echo 'hi' $HOME"])).toBe(`sudo podns exec web -- sh -c 'echo '\\''hi'\\'' $HOME'`);
    expect(sudoLine(['run', '/tmp/pod.yaml', '--cgroup-parent=a/b', 'x@y:z,1%2+3'])).toBe('sudo podns run /tmp/pod.yaml --cgroup-parent=a/b x@y:z,1%2+3');
    expect(sudoLine(['logs', ''])).toBe("sudo podns logs ''");
  });

  it('permissionDenied turns EACCES and EPERM into the one line, naming the call and the file', () => {
    const raw = Object.assign(new Error("EACCES: permission denied, scandir '/run/podns/pods'"), { code: 'EACCES', errno: -13, syscall: 'scandir', path: '/run/podns/pods' });
    expect(permissionDenied(raw, ['ps'], ['ps'])?.message).toBe('ps needs root: scandir "/run/podns/pods": permission denied (EACCES); try sudo podns ps');
    const sys = new SysError('cgroup.write', 'open', 1, 'EPERM', 'write "0" to "/sys/fs/cgroup/pids/x/cgroup.procs"', '/sys/fs/cgroup/pids/x/cgroup.procs');
    expect(permissionDenied(sys, ['stats'], ['stats'])?.message).toBe('stats needs root: write "0" to "/sys/fs/cgroup/pids/x/cgroup.procs": operation not permitted (EPERM); try sudo podns stats');
  });

  it('permissionDenied leaves every other error alone', () => {
    expect(permissionDenied(Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open', path: '/x' }), ['ps'], ['ps'])).toBeUndefined();
    expect(permissionDenied(new UserError('ENOPOD', 'pod "x" not found'), ['logs'], ['logs', 'x'])).toBeUndefined();
    expect(permissionDenied('a string', ['ps'], ['ps'])).toBeUndefined();
  });
});
