{
  "targets": [
    {
      "target_name": "tfjs_torch",
      "sources": ["binding/addon.cc", "binding/tensor_handle.cc", "binding/dispatch.cc", "binding/program.cc", "binding/distributed.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node -p \"(process.env.INSIGHT_LIBTORCH_INCLUDE || '/usr/include /usr/include/torch/csrc/api/include')\")"
      ],
      "libraries": [
        "-L<!(node -p \"process.env.INSIGHT_LIBTORCH_LIB || '/usr/lib/x86_64-linux-gnu'\")",
        "-Wl,-rpath,<!(node -p \"process.env.INSIGHT_LIBTORCH_LIB || '/usr/lib/x86_64-linux-gnu'\")",
        "-ltorch_cpu", "-lc10"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-D_GLIBCXX_USE_CXX11_ABI=1", "-Wno-unused-parameter"],
      "defines": [
        "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NAPI_VERSION=8",
        "<!(node scripts/gloo-define.js)"
      ]
    }
  ]
}
