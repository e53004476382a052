{
  "variables": {
    # Extracts (once) and prints the pinned libsecp256k1 source folder; see deps/README.md.
    "secp256k1_dir": "<!(node deps/fetch-secp256k1.mjs)"
  },
  "targets": [
    {
      # libsecp256k1 plus our kernel, compiled as ONE C translation unit
      # (native/kernel.c includes src/secp256k1.c) so the kernel can call
      # internals such as secp256k1_ecmult_multi_var.
      "target_name": "zkmeter_kernel",
      "type": "static_library",
      "sources": ["native/kernel.c"],
      "include_dirs": ["<(secp256k1_dir)", "<(secp256k1_dir)/src", "<(secp256k1_dir)/include"],
      "defines": [
        # Precomputed-table sizes (libsecp256k1's configure defaults):
        # 2^(15-2) odd multiples of G for verification-style ecmult (about 1 MiB),
        # 4-bit comb teeth for ecmult_gen.
        "ECMULT_WINDOW_SIZE=15",
        "ECMULT_GEN_PREC_BITS=4",
        # No export attributes: together with -fvisibility=hidden, none of
        # libsecp256k1's symbols leak from the addon (otherwise 52 do).
        "SECP256K1_API=",
        "ENABLE_MODULE_EXTRAKEYS=1",
        "ENABLE_MODULE_SCHNORRSIG=1"
      ],
      "conditions": [
        # libsecp256k1's hand-written x86-64 field multiplication, as its configure
        # enables by default on that architecture (about 1.5x faster MSMs here).
        ["target_arch=='x64' and OS!='win'", { "defines": ["USE_ASM_X86_64=1"] }]
      ],
      "cflags": ["-std=c99", "-O3", "-fvisibility=hidden", "-Wno-unused-function", "-Wno-nonnull-compare"],
      "cflags!": ["-O2", "-fno-omit-frame-pointer"],
      "xcode_settings": {
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "OTHER_CFLAGS": ["-std=c99", "-O3", "-Wno-unused-function"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "CompileAs": 1 } }
    },
    {
      "target_name": "zkmeter",
      "sources": ["native/addon.cc"],
      "dependencies": ["zkmeter_kernel"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-fvisibility=hidden"],
      "cflags_cc": ["-fvisibility=hidden", "-fexceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions"],
      "conditions": [
        ["OS=='linux'", { "ldflags": ["-Wl,--exclude-libs,ALL", "-Wl,--version-script=<(module_root_dir)/native/exports.map"] }]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "CLANG_CXX_LIBRARY": "libc++",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
