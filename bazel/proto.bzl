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

`proto_root` names another root for protos kept elsewhere (the tests' copy of Feast's own
protos, imported as "feast/types/Value.proto", lives under tests/feast_compat/).
"""

GranaryProtoInfo = provider(
    doc = "Transitive .proto sources of a granary_proto_library, for protoc's sandbox.",
    fields = {"transitive_srcs": "depset of .proto Files"},
)

def _relative(src, package):
    # The .proto's path under the declaring package, where its outputs are declared.
    prefix = package + "/"
    if not src.short_path.startswith(prefix):
        fail("%s is not under %s" % (src.short_path, package))
    return src.short_path[len(prefix):]

def _proto_gen_impl(ctx):
    root = ctx.attr.proto_root
    package = ctx.label.package
    if ctx.label.workspace_root:
        fail("granary_proto_library only supports the main repository")
    if package != root and not package.startswith(root + "/"):
        fail("package %s is not under the proto root %s" % (package, root))
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
            out = ctx.actions.declare_file(_relative(src, package)[:-len(".proto")] + suffix)
            (hdrs if suffix.endswith(".h") else srcs).append(out)

    # Outputs are declared under <bin>/<package>/; protoc wants the root that mirrors the
    # proto root.
    out_root = ctx.bin_dir.path + "/" + root
    args = ctx.actions.args()
    args.add("-I" + root)
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
        "proto_root": attr.string(default = "proto"),
    },
)

def granary_proto_library(
        name,
        srcs,
        deps = [],
        grpc = False,
        visibility = None,
        proto_root = "proto",
        testonly = False,
        alwayslink = False):
    """C++ library of the messages (and, with grpc = True, the service stubs) in srcs.

    alwayslink keeps the descriptors of a .proto no code refers to (one that only names a
    service over other files' messages) in the binary, where reflection looks them up.
    """
    _proto_gen(
        name = name + "_gen",
        srcs = srcs,
        deps = [d + "_gen" for d in deps],
        grpc = grpc,
        proto_root = proto_root,
        testonly = testonly,
        visibility = visibility or ["//visibility:public"],
    )
    native.filegroup(
        name = name + "_hdrs",
        srcs = [name + "_gen"],
        output_group = "hdrs",
        testonly = testonly,
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = [name + "_gen"],
        output_group = "srcs",
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        testonly = testonly,
        srcs = [name + "_srcs"],
        hdrs = [name + "_hdrs"],
        strip_include_prefix = "/" + proto_root,
        # Generated code is not ours to keep warning-free.
        copts = ["-Wno-unused-parameter", "-w"],
        alwayslink = alwayslink,
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility or ["//visibility:public"],
    )
