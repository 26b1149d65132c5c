"""granary_proto_library: .proto files to C++ messages (and gRPC stubs) with the system protoc.

Usage, in proto/granary/<area>/v1/BUILD.bazel:

    granary_proto_library(
        name = "serving",
        srcs = ["serving.proto"],
        deps = ["//proto/granary/types/v1:types"],
        grpc = True,
    )

gives a cc_library `serving` whose headers are included as "granary/serving/v1/serving.pb.h"
(and "...serving.grpc.pb.h"). Imports are resolved against proto/ and /usr/include (for the
well-known types). Native proto rules are not used because they want @com_google_protobuf.
"""

_PROTO_ROOT = "proto"

GranaryProtoInfo = provider(
    doc = "Transitive .proto sources of a granary_proto_library, for protoc's sandbox.",
    fields = {"transitive_srcs": "depset of .proto Files"},
)

def _out_name(src, suffix):
    return src.basename[:-len(".proto")] + suffix

def _proto_gen_impl(ctx):
    transitive = depset(
        ctx.files.srcs,
        transitive = [d[GranaryProtoInfo].transitive_srcs for d in ctx.attr.deps],
    )
    hdrs = []
    srcs = []
    for src in ctx.files.srcs:
        suffixes = [".pb.h", ".pb.cc"]
        if ctx.attr.grpc:
            suffixes += [".grpc.pb.h", ".grpc.pb.cc"]
        for suffix in suffixes:
            out = ctx.actions.declare_file(_out_name(src, suffix))
            (hdrs if suffix.endswith(".h") else srcs).append(out)

    # Generated files land in <bin>/<package>/; protoc wants the root that mirrors proto/.
    out_root = ctx.bin_dir.path + "/" + _PROTO_ROOT
    if ctx.label.workspace_root:
        fail("granary_proto_library only supports the main repository")
    args = ctx.actions.args()
    args.add("-I" + _PROTO_ROOT)
    args.add("-I/usr/include")
    args.add("--cpp_out=" + out_root)
    if ctx.attr.grpc:
        args.add("--grpc_out=" + out_root)
        args.add("--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin")
    args.add_all(ctx.files.srcs)
    ctx.actions.run(
        executable = "/usr/bin/protoc",
        arguments = [args],
        inputs = transitive,
        outputs = hdrs + srcs,
        mnemonic = "GranaryProtoc",
        progress_message = "protoc %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset(hdrs + srcs)),
        GranaryProtoInfo(transitive_srcs = transitive),
        OutputGroupInfo(hdrs = depset(hdrs), srcs = depset(srcs)),
    ]

_proto_gen = rule(
    implementation = _proto_gen_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".proto"]),
        "deps": attr.label_list(providers = [GranaryProtoInfo]),
        "grpc": attr.bool(default = False),
    },
)

def granary_proto_library(name, srcs, deps = [], grpc = False, visibility = None):
    """C++ library of the messages (and, with grpc = True, the service stubs) in srcs."""
    _proto_gen(
        name = name + "_gen",
        srcs = srcs,
        deps = [d + "_gen" for d in deps],
        grpc = grpc,
        visibility = visibility or ["//visibility:public"],
    )
    native.filegroup(name = name + "_hdrs", srcs = [name + "_gen"], output_group = "hdrs")
    native.filegroup(name = name + "_srcs", srcs = [name + "_gen"], output_group = "srcs")
    native.cc_library(
        name = name,
        srcs = [name + "_srcs"],
        hdrs = [name + "_hdrs"],
        strip_include_prefix = "/" + _PROTO_ROOT,
        # Generated code is not ours to keep warning-free.
        copts = ["-Wno-unused-parameter", "-w"],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility or ["//visibility:public"],
    )
