{
  "targets": [
    {
      "target_name": "podns",
      "sources": ["native/addon.cc", "native/spawn.c", "native/seccomp-build.c", "native/cgroup-bpf.c", "native/pidfd.c", "native/netns-connect.c"],
      "libraries": ["-lseccomp", "-lpthread"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_cc": ["-fexceptions", "-std=c++17"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"]
    },
    {
      "target_name": "pause",
      "type": "executable",
      "sources": ["native/pause.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "ldflags": ["-static"]
    }
  ]
}
