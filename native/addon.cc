// N-API glue for podns. Converts JS options into the plain C structures of spawn.h (all strings copied and
// kept alive for the duration of the call), opens namespace files before the fork, and turns failures into
// JS errors carrying step/errno/code/index. The kernel work itself lives in spawn.c.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "cgroup-bpf.h"
#include "netns-connect.h"
#include "pidfd.h"
#include "seccomp-build.h"
#include "spawn.h"
}

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace {

const char *ErrnoName(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "EUNKNOWN";
}

Napi::Error SysError(Napi::Env env, const std::string &step, int err, int index = -1) {
  Napi::Error e = Napi::Error::New(env, step + ": " + strerror(err));
  e.Set("step", Napi::String::New(env, step));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("index", Napi::Number::New(env, index));
  return e;
}

// Holds every C string the child will read, so pointers stay valid across the fork.
struct Strings {
  std::vector<std::unique_ptr<std::string>> store;
  const char *Keep(const std::string &s) {
    store.push_back(std::make_unique<std::string>(s));
    return store.back()->c_str();
  }
};

std::string GetString(const Napi::Object &o, const char *key, const std::string &fallback = "") {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

bool Has(const Napi::Object &o, const char *key) {
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

int64_t GetInt(const Napi::Object &o, const char *key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

std::vector<char *> StringArray(Napi::Env env, Strings &strings, Napi::Value value, const char *what) {
  std::vector<char *> out;
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of strings");
  Napi::Array arr = value.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value item = arr.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of strings");
    out.push_back(const_cast<char *>(strings.Keep(item.As<Napi::String>().Utf8Value())));
  }
  out.push_back(nullptr);
  return out;
}

const char *kNsKeys[PODNS_NS_COUNT] = {"ipc", "uts", "net", "pid", "cgroup", "mnt", "user"};

// spawn({ joinNamespaces: {net: path, ...}, cloneFlags, newSession, hostname, mounts: [...], rootfs, cwd,
//         user: {uid, gid, groups}, stdio: [fd|-1 x3], execFile | path + searchPath, argv, env })
// One fd sent with SCM_RIGHTS, already queued on `sock` (non-blocking); -1 with errno set when none came.
int ReceiveFd(int sock) {
  char data;
  struct iovec iov = {&data, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (n != 1 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
    errno = EPROTO;
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

// Everything a spawn request holds for the child: the C spec of spawn.h and what its pointers point into (strings,
// arrays), the fds opened for it, and the trace buffer. Built from the JS request; the child reads its own copy
// after the fork, so once the fork is done only the trace buffer and the terminal's socket matter to the parent.
struct SpawnArgs {
  Strings strings;
  struct podns_spawn spec;
  std::vector<int> to_close;
  std::vector<struct podns_mount> mounts;
  std::vector<gid_t> groups;
  std::vector<struct podns_sysctl> sysctls;
  std::vector<char *> argv;
  std::vector<char *> envp;
  std::vector<struct podns_trace_step> trace_steps;
  struct podns_trace trace = {nullptr, 0, 0};
  int console[2] = {-1, -1};

  SpawnArgs() {
    memset(&spec, 0, sizeof spec);
    spec.exec_fd = -1;
    spec.console_socket = -1;
    for (int &fd : spec.ns_fds) fd = -1;
  }
  ~SpawnArgs() { CloseAll(); }
  SpawnArgs(const SpawnArgs &) = delete;
  SpawnArgs &operator=(const SpawnArgs &) = delete;

  // The fds the parent opened for the child (namespaces, cgroup.procs files, the executable, the child's end of the
  // terminal socket): the child has its own copies once it is forked.
  void CloseAll() {
    for (int fd : to_close) close(fd);
    to_close.clear();
  }

  void Build(Napi::Env env, const Napi::Object &o);
};

void SpawnArgs::Build(Napi::Env env, const Napi::Object &o) {
  if (Has(o, "joinNamespaces")) {
    Napi::Object ns = o.Get("joinNamespaces").As<Napi::Object>();
    for (int i = 0; i < PODNS_NS_COUNT; i++) {
      std::string path = GetString(ns, kNsKeys[i]);
      if (path.empty()) continue;
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw SysError(env, std::string("open ") + path, errno, i);
      to_close.push_back(fd);
      spec.ns_fds[i] = fd;
    }
  }
  // cgroupProcsFile: one cgroup.procs (cgroup v2); cgroupProcsFiles: one per hierarchy (cgroup v1).
  std::vector<std::string> procs_files;
  if (Has(o, "cgroupProcsFile")) procs_files.push_back(GetString(o, "cgroupProcsFile"));
  if (Has(o, "cgroupProcsFiles")) {
    Napi::Array files = o.Get("cgroupProcsFiles").As<Napi::Array>();
    for (uint32_t i = 0; i < files.Length(); i++) procs_files.push_back(files.Get(i).As<Napi::String>().Utf8Value());
  }
  if (procs_files.size() > PODNS_MAX_CGROUP_FDS) throw Napi::RangeError::New(env, "spawn: too many cgroupProcsFiles");
  for (const std::string &path : procs_files) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw SysError(env, std::string("open ") + path, errno, (int)spec.n_cgroup_procs_fds);
    to_close.push_back(fd);
    spec.cgroup_procs_fds[spec.n_cgroup_procs_fds++] = fd;
  }
  spec.clone_flags = (int)GetInt(o, "cloneFlags", 0);
  // userns: {uidBase, gidBase, size}: the id maps the caller writes for a pause cloned with CLONE_NEWUSER.
  if (Has(o, "userns")) {
    Napi::Object u = o.Get("userns").As<Napi::Object>();
    spec.userns_map = 1;
    spec.userns_uid_base = (uint32_t)GetInt(u, "uidBase", 0);
    spec.userns_gid_base = (uint32_t)GetInt(u, "gidBase", 0);
    spec.userns_size = (uint32_t)GetInt(u, "size", 0);
  }
  spec.new_session = o.Get("newSession").ToBoolean().Value();
  spec.root_propagation = (unsigned long)GetInt(o, "rootPropagation", 0);
  spec.loopback_up = o.Get("loopbackUp").ToBoolean().Value();
  if (Has(o, "hostname")) spec.hostname = strings.Keep(GetString(o, "hostname"));
  if (Has(o, "rootfs")) spec.rootfs = strings.Keep(GetString(o, "rootfs"));
  if (Has(o, "cwd")) spec.cwd = strings.Keep(GetString(o, "cwd"));

  if (Has(o, "mounts")) {
    Napi::Array arr = o.Get("mounts").As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Object m = arr.Get(i).As<Napi::Object>();
      struct podns_mount pm;
      memset(&pm, 0, sizeof pm);
      std::string kind = GetString(m, "kind");
      pm.kind = kind == "symlink" ? PODNS_SYMLINK : kind == "mask" ? PODNS_MASK : kind == "readonly" ? PODNS_READONLY : PODNS_MOUNT;
      pm.in_rootfs = m.Get("inRootfs").ToBoolean().Value();
      pm.source = Has(m, "source") ? strings.Keep(GetString(m, "source")) : nullptr;
      pm.target = strings.Keep(GetString(m, "target"));
      pm.fstype = Has(m, "fstype") ? strings.Keep(GetString(m, "fstype")) : nullptr;
      pm.flags = (unsigned long)GetInt(m, "flags", 0);
      pm.data = Has(m, "data") ? strings.Keep(GetString(m, "data")) : nullptr;
      std::string create = GetString(m, "create");
      pm.create = create == "dir" ? PODNS_TARGET_DIR : create == "file" ? PODNS_TARGET_FILE : PODNS_TARGET_EXISTS;
      pm.remount_flags = (unsigned long)GetInt(m, "remountFlags", 0);
      pm.propagation = (unsigned long)GetInt(m, "propagation", 0);
      pm.recursive_readonly = (int)GetInt(m, "recursiveReadOnly", 0);
      pm.bind_as_peer = m.Get("bindAsPeer").ToBoolean().Value();
      pm.idmap = m.Get("idmap").ToBoolean().Value();
      mounts.push_back(pm);
    }
  }
  spec.mounts = mounts.empty() ? nullptr : mounts.data();
  spec.n_mounts = mounts.size();
  for (const auto &m : mounts) {
    if (m.in_rootfs && !spec.rootfs) throw Napi::TypeError::New(env, "spawn: a mount inRootfs needs rootfs");
    if (m.idmap && spec.ns_fds[PODNS_NS_USER] < 0) throw Napi::TypeError::New(env, "spawn: an idmap mount needs joinNamespaces.user");
  }

  if (Has(o, "user")) {
    Napi::Object u = o.Get("user").As<Napi::Object>();
    spec.set_user = 1;
    spec.uid = (uid_t)GetInt(u, "uid", 0);
    spec.gid = (gid_t)GetInt(u, "gid", 0);
    if (Has(u, "groups")) {
      Napi::Array g = u.Get("groups").As<Napi::Array>();
      for (uint32_t i = 0; i < g.Length(); i++) groups.push_back((gid_t)g.Get(i).As<Napi::Number>().Uint32Value());
    }
    spec.groups = groups.data();
    spec.n_groups = groups.size();
  }

  for (int i = 0; i < 3; i++) spec.stdio[i] = -1;
  if (Has(o, "stdio")) {
    Napi::Array s = o.Get("stdio").As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < s.Length(); i++) spec.stdio[i] = s.Get(i).As<Napi::Number>().Int32Value();
  }
  if (Has(o, "extraFds")) {
    Napi::Array extra = o.Get("extraFds").As<Napi::Array>();
    if (extra.Length() > PODNS_MAX_EXTRA_FDS) throw Napi::RangeError::New(env, "spawn: too many extraFds");
    for (uint32_t i = 0; i < extra.Length(); i++) spec.extra_fds[spec.n_extra_fds++] = extra.Get(i).As<Napi::Number>().Int32Value();
  }

  if (Has(o, "security")) {
    Napi::Object sec = o.Get("security").As<Napi::Object>();
    auto mask = [&](const char *key) -> uint64_t {
      Napi::Value v = sec.Get(key);
      if (!v.IsBigInt()) throw Napi::TypeError::New(env, std::string("spawn: security.") + key + " must be a bigint");
      bool lossless = true;
      return v.As<Napi::BigInt>().Uint64Value(&lossless);
    };
    spec.security.apply = 1;
    spec.security.bounding = mask("bounding");
    spec.security.effective = mask("effective");
    spec.security.permitted = mask("permitted");
    spec.security.inheritable = mask("inheritable");
    spec.security.no_new_privs = sec.Get("noNewPrivs").ToBoolean().Value();
    spec.security.readonly_root = sec.Get("readonlyRoot").ToBoolean().Value();
    Napi::Value filter = sec.Get("seccompFilter");
    if (filter.IsBuffer()) {
      Napi::Buffer<uint8_t> buf = filter.As<Napi::Buffer<uint8_t>>();
      // struct sock_filter is 8 bytes: u16 code, u8 jt, u8 jf, u32 k.
      if (buf.Length() == 0 || buf.Length() % 8 != 0 || buf.Length() / 8 > 65535)
        throw Napi::TypeError::New(env, "spawn: security.seccompFilter must hold whole BPF instructions");
      // The JS buffer outlives the fork (the child has its own copy of the memory).
      spec.security.seccomp_filter = buf.Data();
      spec.security.seccomp_len = buf.Length() / 8;
    }
  }
  if (Has(o, "sysctls")) {
    Napi::Array arr = o.Get("sysctls").As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Object item = arr.Get(i).As<Napi::Object>();
      sysctls.push_back({strings.Keep(GetString(item, "path")), strings.Keep(GetString(item, "value"))});
    }
    spec.sysctls = sysctls.data();
    spec.n_sysctls = sysctls.size();
  }

  argv = StringArray(env, strings, o.Get("argv"), "argv");
  envp = StringArray(env, strings, o.Get("env"), "env");
  if (argv.size() < 2) throw Napi::TypeError::New(env, "spawn: argv must not be empty");
  spec.argv = argv.data();
  spec.envp = envp.data();
  if (Has(o, "execFile")) {
    std::string file = GetString(o, "execFile");
    spec.exec_fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (spec.exec_fd < 0) throw SysError(env, std::string("open ") + file, errno);
    to_close.push_back(spec.exec_fd);
  } else {
    spec.path = strings.Keep(GetString(o, "path", argv[0]));
    if (Has(o, "searchPath")) spec.search_path = strings.Keep(GetString(o, "searchPath"));
  }

  // terminal: a socket pair; the child sends the pty master it made in the container on its end. Our end
  // (console[0]) is closed by the caller once the master is received.
  if (o.Get("terminal").ToBoolean().Value()) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) throw SysError(env, "socketpair", errno);
    to_close.push_back(console[1]);
    spec.console_socket = console[1];
  }

  spec.trace = o.Get("trace").ToBoolean().Value();
  trace_steps.resize(spec.trace ? 4096 : 0);
  trace = {trace_steps.data(), trace_steps.size(), 0};
}

// After the child exec'd (pid >= 0) or failed: the terminal's master (queued on our end before the report pipe
// closed), and the JS result { pid, console?, steps? } — or the error to throw. Closes our end of the terminal
// socket; on a failure to receive the master, kills and reaps the process.
Napi::Value SpawnResult(Napi::Env env, pid_t pid, const struct podns_failure &failure, int console_end, const struct podns_trace &trace) {
  int master = pid >= 0 && console_end >= 0 ? ReceiveFd(console_end) : -1;
  int receive_errno = errno;
  if (console_end >= 0) close(console_end);
  // Non-blocking for the event loop: a program that does not read its terminal must not stall the writer.
  if (master >= 0) fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  if (pid < 0) throw SysError(env, podns_step_name(failure.step), failure.err, failure.index);
  if (console_end >= 0 && master < 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
    throw SysError(env, "console", receive_errno);
  }
  if (trace.cap == 0 && master < 0) return Napi::Number::New(env, pid);
  // { pid, console?, steps? }: the pty master; with trace every step that succeeded, in order.
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  if (master >= 0) out.Set("console", Napi::Number::New(env, master));
  if (trace.cap == 0) return out;
  Napi::Array steps = Napi::Array::New(env, trace.len);
  for (size_t i = 0; i < trace.len; i++) {
    Napi::Object st = Napi::Object::New(env);
    st.Set("step", Napi::String::New(env, podns_step_name(trace.steps[i].step)));
    st.Set("index", Napi::Number::New(env, trace.steps[i].index));
    steps.Set((uint32_t)i, st);
  }
  out.Set("steps", steps);
  return out;
}

// spawn(request) → pid | { pid, console?, steps? }: blocks until the process has exec'd (the CLI's exec).
Napi::Value Spawn(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "spawn: options object expected");
  SpawnArgs args;
  try {
    args.Build(env, info[0].As<Napi::Object>());
  } catch (...) {
    if (args.console[0] >= 0) close(args.console[0]);
    throw;
  }
  struct podns_failure failure;
  pid_t pid = podns_spawn(&args.spec, &failure, args.spec.trace ? &args.trace : nullptr);
  args.CloseAll();
  return SpawnResult(env, pid, failure, args.console[0], args.trace);
}

// A spawn whose child is still setting itself up: its report pipe watched on the event loop.
struct PendingSpawn {
  uv_poll_t poll;
  struct podns_pending pending;
  struct podns_failure failure;
  std::vector<struct podns_trace_step> trace_steps;
  struct podns_trace trace;
  int console_end;
  napi_env env;
  Napi::FunctionReference callback;
};

void OnPendingClosed(uv_handle_t *handle) { delete static_cast<PendingSpawn *>(handle->data); }

void OnReportReadable(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  PendingSpawn *p = static_cast<PendingSpawn *>(handle->data);
  if (!podns_spawn_read(&p->pending, &p->failure, p->trace.cap ? &p->trace : nullptr)) return;
  uv_poll_stop(&p->poll);
  pid_t pid = podns_spawn_finish(&p->pending, &p->failure);
  Napi::Env env(p->env);
  Napi::HandleScope scope(env);
  Napi::Value error = env.Null();
  Napi::Value result = env.Undefined();
  try {
    result = SpawnResult(env, pid, p->failure, p->console_end, p->trace);
  } catch (const Napi::Error &e) {
    error = e.Value();
  }
  p->callback.MakeCallback(env.Global(), {error, result});
  uv_close(reinterpret_cast<uv_handle_t *>(&p->poll), OnPendingClosed);
}

// spawnAsync(request, callback(error, pid | { pid, console?, steps? })): forks at once and returns; the child
// sets itself up while the event loop goes on, and the callback runs once it has exec'd or failed. A throw
// means nothing was started.
Napi::Value SpawnAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "spawnAsync: options object expected");
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "spawnAsync: callback expected");
  auto p = std::make_unique<PendingSpawn>();
  SpawnArgs args;
  try {
    args.Build(env, info[0].As<Napi::Object>());
  } catch (...) {
    if (args.console[0] >= 0) close(args.console[0]);
    throw;
  }
  p->trace_steps = std::move(args.trace_steps);
  p->trace = {p->trace_steps.data(), p->trace_steps.size(), 0};
  p->console_end = args.console[0];
  if (podns_spawn_begin(&args.spec, &p->failure, &p->pending) < 0) {
    if (p->console_end >= 0) close(p->console_end);
    throw SysError(env, podns_step_name(p->failure.step), p->failure.err, p->failure.index);
  }
  args.CloseAll();
  fcntl(p->pending.report_fd, F_SETFL, fcntl(p->pending.report_fd, F_GETFL) | O_NONBLOCK);
  p->env = env;
  p->callback = Napi::Persistent(info[1].As<Napi::Function>());
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  p->poll.data = p.get();
  if (uv_poll_init(loop, &p->poll, p->pending.report_fd) != 0 || uv_poll_start(&p->poll, UV_READABLE, OnReportReadable) != 0) {
    // Cannot watch it: wait for it here rather than leave a child nobody reaps.
    while (!podns_spawn_read(&p->pending, &p->failure, p->trace.cap ? &p->trace : nullptr)) {
    }
    pid_t pid = podns_spawn_finish(&p->pending, &p->failure);
    if (pid > 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
      }
    }
    if (p->console_end >= 0) close(p->console_end);
    throw SysError(env, "uv_poll_start", EINVAL);
  }
  p.release();
  return env.Undefined();
}

// Exit watching: a pidfd polled on the event loop; waitid(P_PIDFD) reaps. libuv only waits for the pids it
// spawned itself, so the two never race for a child.
struct ExitWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference callback;
};

void OnWatchClosed(uv_handle_t *handle) { delete static_cast<ExitWatch *>(handle->data); }

void OnPidfdReadable(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  ExitWatch *w = static_cast<ExitWatch *>(handle->data);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG | __WALL);
  while (rc < 0 && errno == EINTR);
  int err = rc < 0 ? errno : 0;
  if (rc == 0 && si.si_pid == 0) return;  // spurious wake-up: not exited yet
  uv_poll_stop(&w->poll);
  close(w->pidfd);

  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  if (err) {
    // Not our child (ECHILD) or already reaped: the exit happened, its status is unknown.
    result.Set("exitCode", env.Null());
    result.Set("signal", env.Null());
    result.Set("error", Napi::String::New(env, ErrnoName(err)));
  } else if (si.si_code == CLD_EXITED) {
    result.Set("exitCode", Napi::Number::New(env, si.si_status));
    result.Set("signal", env.Null());
  } else {
    result.Set("exitCode", env.Null());
    result.Set("signal", Napi::Number::New(env, si.si_status));
  }
  w->callback.MakeCallback(env.Global(), {result});
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnWatchClosed);
}

// watchExit(pid, callback({exitCode, signal})): the callback runs once, when the process has exited.
Napi::Value WatchExit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "watchExit: callback expected");
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) throw SysError(env, "pidfd_open", errno);
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  ExitWatch *w = new ExitWatch();
  w->pidfd = pidfd;
  w->env = env;
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->poll.data = w;
  if (uv_poll_init(loop, &w->poll, pidfd) != 0 || uv_poll_start(&w->poll, UV_READABLE, OnPidfdReadable) != 0) {
    close(pidfd);
    delete w;
    throw SysError(env, "uv_poll_start", EINVAL);
  }
  return env.Undefined();
}

// setWindowSize(fd, rows, cols): TIOCSWINSZ on a pty master; the kernel sends SIGWINCH to the terminal's
// foreground process group, as a terminal emulator's resize does.
Napi::Value SetWindowSize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) throw SysError(env, "ioctl TIOCSWINSZ", errno);
  return env.Undefined();
}

// A non-child's exit: the pidfd polled on the event loop (waitid cannot reap what is not ours); the status is
// read when it becomes readable (pidfd.c podns_exit_status), through the /proc/<pid>/stat opened beforehand.
struct ForeignExitWatch {
  uv_poll_t poll;
  int pidfd;
  int stat_fd;
  napi_env env;
  Napi::FunctionReference callback;
};

void OnForeignWatchClosed(uv_handle_t *handle) { delete static_cast<ForeignExitWatch *>(handle->data); }

void OnForeignPidfdReadable(uv_poll_t *handle, int status, int events) {
  (void)status;
  (void)events;
  ForeignExitWatch *w = static_cast<ForeignExitWatch *>(handle->data);
  int wstatus = podns_exit_status(w->pidfd, w->stat_fd);
  uv_poll_stop(&w->poll);
  close(w->pidfd);
  close(w->stat_fd);

  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  if (wstatus < 0) {
    // Reaped by its parent before we could read it, on a kernel that keeps no exit info for pidfds.
    result.Set("exitCode", env.Null());
    result.Set("signal", env.Null());
    result.Set("error", Napi::String::New(env, ErrnoName(-wstatus)));
  } else if (WIFEXITED(wstatus)) {
    result.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(wstatus)));
    result.Set("signal", env.Null());
  } else {
    result.Set("exitCode", env.Null());
    result.Set("signal", Napi::Number::New(env, WTERMSIG(wstatus)));
  }
  w->callback.MakeCallback(env.Global(), {result});
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), OnForeignWatchClosed);
}

// watchForeignExit(pid, startTime, callback({exitCode, signal, error?})): for a process that is not our child
// (one a dead shim started). Throws ESRCH when the pid no longer names the process that started at startTime.
Napi::Value WatchForeignExit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  unsigned long long start_time = (unsigned long long)info[1].As<Napi::Number>().Int64Value();
  if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "watchForeignExit: callback expected");
  int stat_fd = -1;
  int pidfd = podns_pidfd_open_verified(pid, start_time, &stat_fd);
  if (pidfd < 0) throw SysError(env, "pidfd_open", -pidfd);
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  ForeignExitWatch *w = new ForeignExitWatch();
  w->pidfd = pidfd;
  w->stat_fd = stat_fd;
  w->env = env;
  w->callback = Napi::Persistent(info[2].As<Napi::Function>());
  w->poll.data = w;
  if (uv_poll_init(loop, &w->poll, pidfd) != 0 || uv_poll_start(&w->poll, UV_READABLE, OnForeignPidfdReadable) != 0) {
    close(pidfd);
    close(stat_fd);
    delete w;
    throw SysError(env, "uv_poll_start", EINVAL);
  }
  return env.Undefined();
}

// takeFd(pid, startTime, targetFd) → a copy of fd `targetFd` of that process (pidfd_getfd(2), close-on-exec);
// the pid is verified against its start time first.
Napi::Value TakeFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  unsigned long long start_time = (unsigned long long)info[1].As<Napi::Number>().Int64Value();
  int target = info[2].As<Napi::Number>().Int32Value();
  int pidfd = podns_pidfd_open_verified(pid, start_time, nullptr);
  if (pidfd < 0) throw SysError(env, "pidfd_open", -pidfd);
  int fd = (int)syscall(SYS_pidfd_getfd, pidfd, target, 0);
  int err = errno;
  close(pidfd);
  if (fd < 0) throw SysError(env, "pidfd_getfd", err, target);
  return Napi::Number::New(env, fd);
}

// socketPair() → [a, b]: AF_UNIX SOCK_SEQPACKET (one message per send, fds and all), close-on-exec.
Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) throw SysError(env, "socketpair", errno);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// sendFds(socket, fds, byte = 'h'): one message of one byte carrying `fds` (SCM_RIGHTS; none: a bare message).
// The byte is the pause's verb: 'h' hold, 'd' drop (pause.c). Never blocks: a full receiver is EAGAIN.
Napi::Value SendFds(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  Napi::Array arr = info[1].As<Napi::Array>();
  const uint32_t max = 16;  // what the pause takes per message (pause.c MAX_PER_MESSAGE)
  if (arr.Length() > max) throw Napi::RangeError::New(env, "sendFds: at most 16 fds per message");
  int fds[16];
  for (uint32_t i = 0; i < arr.Length(); i++) fds[i] = arr.Get(i).As<Napi::Number>().Int32Value();
  char byte = info[2].IsString() && info[2].As<Napi::String>().Utf8Value() == "d" ? 'd' : 'h';
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 16)];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (arr.Length() > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * arr.Length());
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * arr.Length());
    memcpy(CMSG_DATA(c), fds, sizeof(int) * arr.Length());
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw SysError(env, "sendmsg", errno);
  return env.Undefined();
}

// pipe(size?): [readFd, writeFd], both close-on-exec (spawn dup2s the one a container gets). With size, the
// pipe's buffer is raised to it (F_SETPIPE_SZ) where allowed; a refusal keeps the default 64 KiB.
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw SysError(env, "pipe2", errno);
  if (info[0].IsNumber()) (void)fcntl(fds[0], F_SETPIPE_SZ, info[0].As<Napi::Number>().Int32Value());
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo &info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) throw SysError(info.Env(), "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return info.Env().Undefined();
}

// killAndReap(pid): for a child that could not be watched; blocking, but a SIGKILLed child exits at once.
Napi::Value KillAndReap(const Napi::CallbackInfo &info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  return info.Env().Undefined();
}

// mount(source|null, target, fstype|null, flags, data|null)
Napi::Value Mount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto opt = [&](size_t i) -> std::string { return info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : ""; };
  std::string source = opt(0), target = opt(1), fstype = opt(2), data = opt(4);
  unsigned long flags = info[3].IsNumber() ? (unsigned long)info[3].As<Napi::Number>().Int64Value() : 0;
  if (mount(info[0].IsString() ? source.c_str() : nullptr, target.c_str(), info[2].IsString() ? fstype.c_str() : nullptr,
            flags, info[4].IsString() ? data.c_str() : nullptr) < 0)
    throw SysError(env, "mount", errno);
  return env.Undefined();
}

// umount(target, flags)
Napi::Value Umount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>().Utf8Value();
  int flags = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (umount2(target.c_str(), flags) < 0) throw SysError(env, "umount2", errno);
  return env.Undefined();
}

// buildSeccompFilter({ defaultAction, defaultErrno?, architectures?, syscalls: [{ names, action, errno?,
//                      args?: [{ index, op, value, valueTwo? }] }] }) → Buffer of struct sock_filter.
// Names as in Docker's JSON profiles (SCMP_ACT_*, SCMP_CMP_*); values are numbers or bigints (64-bit).
// libseccomp mallocs, so this runs here in the parent; spawn.c only copies the bytes into prctl.
Napi::Value BuildSeccompFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const std::string fn = "buildSeccompFilter: ";
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, fn + "profile object expected");
  Napi::Object o = info[0].As<Napi::Object>();
  Strings strings;

  auto action = [&](const Napi::Object &from, const char *key, const char *errnoKey, const std::string &where) {
    Napi::Value v = from.Get(key);
    if (!v.IsString()) throw Napi::TypeError::New(env, fn + where + key + " must be a string");
    std::string name = v.As<Napi::String>().Utf8Value();
    int kind = podns_seccomp_action_from_name(name.c_str());
    if (kind < 0) throw Napi::Error::New(env, fn + where + "unknown action \"" + name + "\"");
    struct podns_seccomp_action a = {kind, 0};
    if (kind == PODNS_SCMP_ACT_ERRNO) {
      // The OCI spec's default for an ERRNO action without errnoRet is EPERM.
      int64_t e = GetInt(from, errnoKey, EPERM);
      if (e < 0 || e > 0xffff) throw Napi::RangeError::New(env, fn + where + errnoKey + " out of range");
      a.errno_ret = (int)e;
    }
    return a;
  };
  auto u64 = [&](Napi::Value v, const std::string &what) -> uint64_t {
    if (v.IsBigInt()) {
      bool lossless = true;
      uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) throw Napi::RangeError::New(env, fn + what + " does not fit in 64 bits");
      return x;
    }
    if (v.IsNumber()) {
      double d = v.As<Napi::Number>().DoubleValue();
      if (d < 0 || d > 9007199254740991.0 || d != (double)(uint64_t)d)
        throw Napi::RangeError::New(env, fn + what + " must be a non-negative integer (a bigint above 2^53)");
      return (uint64_t)d;
    }
    if (v.IsUndefined() || v.IsNull()) return 0;
    throw Napi::TypeError::New(env, fn + what + " must be a number or a bigint");
  };

  struct podns_seccomp_profile profile;
  memset(&profile, 0, sizeof profile);
  profile.default_action = action(o, "defaultAction", "defaultErrno", "");

  std::vector<const char *> arches;
  if (Has(o, "architectures")) {
    std::vector<char *> names = StringArray(env, strings, o.Get("architectures"), "buildSeccompFilter: architectures");
    arches.assign(names.begin(), names.end() - 1);
    profile.arches = arches.data();
    profile.n_arches = arches.size();
  }

  // Flattened: one C rule per syscall name; args vectors reserved up front so pointers stay put.
  std::vector<struct podns_seccomp_rule> rules;
  std::vector<std::vector<struct podns_seccomp_arg>> args;
  Napi::Value sv = o.Get("syscalls");
  if (!sv.IsArray()) throw Napi::TypeError::New(env, fn + "syscalls must be an array");
  Napi::Array syscalls = sv.As<Napi::Array>();
  args.reserve(syscalls.Length());
  for (uint32_t i = 0; i < syscalls.Length(); i++) {
    std::string where = "syscalls[" + std::to_string(i) + "].";
    if (!syscalls.Get(i).IsObject()) throw Napi::TypeError::New(env, fn + "syscalls[" + std::to_string(i) + "] must be an object");
    Napi::Object s = syscalls.Get(i).As<Napi::Object>();
    struct podns_seccomp_action a = action(s, "action", "errno", where);
    args.emplace_back();
    std::vector<struct podns_seccomp_arg> &list = args.back();
    if (Has(s, "args")) {
      if (!s.Get("args").IsArray()) throw Napi::TypeError::New(env, fn + where + "args must be an array");
      Napi::Array arr = s.Get("args").As<Napi::Array>();
      if (arr.Length() > 6) throw Napi::RangeError::New(env, fn + where + "args: at most 6 comparisons");
      for (uint32_t j = 0; j < arr.Length(); j++) {
        std::string at = where + "args[" + std::to_string(j) + "]";
        if (!arr.Get(j).IsObject()) throw Napi::TypeError::New(env, fn + at + " must be an object");
        Napi::Object c = arr.Get(j).As<Napi::Object>();
        int64_t index = GetInt(c, "index", -1);
        if (index < 0 || index > 5) throw Napi::RangeError::New(env, fn + at + ".index must be 0-5");
        std::string op = GetString(c, "op");
        int opv = podns_seccomp_op_from_name(op.c_str());
        if (opv < 0) throw Napi::Error::New(env, fn + at + ": unknown op \"" + op + "\"");
        list.push_back({(unsigned)index, opv, u64(c.Get("value"), at + ".value"), u64(c.Get("valueTwo"), at + ".valueTwo")});
      }
    }
    Napi::Value names = s.Get("names");
    std::vector<char *> n = StringArray(env, strings, names, (fn + where + "names").c_str());
    for (size_t k = 0; k + 1 < n.size(); k++) rules.push_back({n[k], a, list.empty() ? nullptr : list.data(), list.size()});
  }
  profile.rules = rules.data();
  profile.n_rules = rules.size();

  void *bpf = nullptr;
  size_t len = 0;
  struct podns_seccomp_error error;
  if (podns_seccomp_build(&profile, &bpf, &len, &error) < 0) {
    Napi::Error e = Napi::Error::New(env, error.message);
    if (error.err) {
      e.Set("errno", Napi::Number::New(env, error.err));
      e.Set("code", Napi::String::New(env, ErrnoName(error.err)));
    }
    throw e;
  }
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env, static_cast<uint8_t *>(bpf), len);
  free(bpf);
  return buf;
}

// attachDeviceFilter(cgroupDir, program: Buffer of struct bpf_insn) — cgroup v2 device policy (cgroup-bpf.c).
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "attachDeviceFilter: (dir, Buffer) expected");
  std::string dir = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> prog = info[1].As<Napi::Buffer<uint8_t>>();
  if (prog.Length() == 0 || prog.Length() % 8 != 0) throw Napi::RangeError::New(env, "attachDeviceFilter: the program must be whole 8-byte instructions");
  std::vector<char> log(16384);
  int rc = podns_attach_device_filter(dir.c_str(), prog.Data(), prog.Length() / 8, log.data(), log.size());
  if (rc < 0) {
    Napi::Error e = SysError(env, "bpf", -rc);
    e.Set("verifierLog", Napi::String::New(env, log.data()));
    throw e;
  }
  return env.Undefined();
}

// A port-forward connection made inside a pod's network namespace. The connect runs on a thread made for it,
// so neither the event loop's thread nor a libuv pool thread ever enters the pod's namespace (setns moves only
// the calling thread, and a pool thread would go on to run other work, DNS lookups included, in there); the
// thread ends once it has its answer, which goes back to the event loop through a thread-safe function.
struct NetnsConnect {
  int ns_fd;
  int port;
  int timeout_ms;
  int fd;
  int err;
  const char *step;
  Napi::ThreadSafeFunction done;
};

void *NetnsConnectThread(void *arg) {
  NetnsConnect *job = static_cast<NetnsConnect *>(arg);
  job->fd = podns_netns_connect(job->ns_fd, job->port, job->timeout_ms, &job->err, &job->step);
  close(job->ns_fd);
  Napi::ThreadSafeFunction done = job->done;
  napi_status status = done.BlockingCall(job, [](Napi::Env env, Napi::Function callback, NetnsConnect *j) {
    if (j->fd < 0) callback.Call({SysError(env, j->step, j->err).Value(), env.Null()});
    else callback.Call({env.Null(), Napi::Number::New(env, j->fd)});
    delete j;
  });
  if (status != napi_ok) {
    // The environment is going away: nobody will take the fd.
    if (job->fd >= 0) close(job->fd);
    delete job;
  }
  done.Release();
  return nullptr;
}

// connectInNetns(nsPath, port, timeoutMs, callback(error, fd)): a TCP connection to localhost:port inside the
// network namespace at nsPath (netns-connect.c); the callback gets the connected fd (ours to close) or an error
// with step (open, setns, socket, connect), errno and code. Opening nsPath fails synchronously.
Napi::Value ConnectInNetns(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int port = info[1].As<Napi::Number>().Int32Value();
  int timeout_ms = info[2].As<Napi::Number>().Int32Value();
  if (!info[3].IsFunction()) throw Napi::TypeError::New(env, "connectInNetns: callback expected");
  int ns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) throw SysError(env, "open", errno);
  NetnsConnect *job = new NetnsConnect{ns_fd, port, timeout_ms, -1, 0, nullptr, {}};
  job->done = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "podns.connectInNetns", 0, 1);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, NetnsConnectThread, job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    close(ns_fd);
    job->done.Release();
    delete job;
    throw SysError(env, "pthread_create", rc);
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  exports.Set("spawnAsync", Napi::Function::New(env, SpawnAsync));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("watchForeignExit", Napi::Function::New(env, WatchForeignExit));
  exports.Set("takeFd", Napi::Function::New(env, TakeFd));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("sendFds", Napi::Function::New(env, SendFds));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper));
  exports.Set("killAndReap", Napi::Function::New(env, KillAndReap));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("buildSeccompFilter", Napi::Function::New(env, BuildSeccompFilter));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("connectInNetns", Napi::Function::New(env, ConnectInNetns));
  return exports;
}

}  // namespace

NODE_API_MODULE(podns, Init)
