"""feast_proto_library: Feast's own .proto files (as a Feast client has them) to C++ with protoc.

Usage, in tests/feast_compat/BUILD.bazel:

    feast_proto_library(
        name = "serving_proto",
        srcs = ["feast/serving/ServingService.proto"],
        deps = [":types_proto"],
        grpc = True,
    )

gives a cc_library whose headers are included as "feast/serving/ServingService.pb.h" (and
"...ServingService.grpc.pb.h"). The same pattern as //bazel:proto.bzl, whose proto root is fixed
to proto/; here the root is the package that declares the rule, so that imports read
"feast/types/Value.proto" as in Feast. Test-only: these messages share the feast.serving package
with //proto/feast/serving and must never be linked beside it.
"""

FeastProtoInfo = provider(
    doc = "Transitive .proto sources of a feast_proto_library, for protoc's sandbox.",
    fields = {"transitive_srcs": "depset of .proto Files"},
)

def _relative(src, package):
    # The .proto's path under the proto root, which is the declaring package.
    prefix = package + "/"
    if not src.short_path.startswith(prefix):
        fail("%s is not under %s" % (src.short_path, package))
    return src.short_path[len(prefix):]

def _feast_proto_gen_impl(ctx):
    package = ctx.label.package
    if ctx.label.workspace_root:
        fail("feast_proto_library only supports the main repository")
    transitive = depset(
        ctx.files.srcs,
        transitive = [d[FeastProtoInfo].transitive_srcs for d in ctx.attr.deps],
    )
    hdrs = []
    srcs = []
    for src in ctx.files.srcs:
        stem = _relative(src, package)[:-len(".proto")]
        suffixes = [".pb.h", ".pb.cc"]
        if ctx.attr.grpc:
            suffixes += [".grpc.pb.h", ".grpc.pb.cc"]
        for suffix in suffixes:
            out = ctx.actions.declare_file(stem + suffix)
            (hdrs if suffix.endswith(".h") else srcs).append(out)

    # Outputs are declared under <bin>/<package>/, which mirrors the proto root.
    out_root = ctx.bin_dir.path + "/" + package
    args = ctx.actions.args()
    args.add("-I" + package)
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
        mnemonic = "FeastProtoc",
        progress_message = "protoc %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset(hdrs + srcs)),
        FeastProtoInfo(transitive_srcs = transitive),
        OutputGroupInfo(hdrs = depset(hdrs), srcs = depset(srcs)),
    ]

_feast_proto_gen = rule(
    implementation = _feast_proto_gen_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".proto"]),
        "deps": attr.label_list(providers = [FeastProtoInfo]),
        "grpc": attr.bool(default = False),
    },
)

def feast_proto_library(name, srcs, deps = [], grpc = False):
    """Test-only C++ library of the messages (and, with grpc = True, the stubs) in srcs."""
    _feast_proto_gen(
        name = name + "_gen",
        srcs = srcs,
        deps = [d + "_gen" for d in deps],
        grpc = grpc,
        testonly = True,
    )
    native.filegroup(
        name = name + "_hdrs",
        srcs = [name + "_gen"],
        output_group = "hdrs",
        testonly = True,
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = [name + "_gen"],
        output_group = "srcs",
        testonly = True,
    )
    native.cc_library(
        name = name,
        testonly = True,
        srcs = [name + "_srcs"],
        hdrs = [name + "_hdrs"],
        strip_include_prefix = "/" + native.package_name(),
        # Generated code is not ours to keep warning-free.
        copts = ["-Wno-unused-parameter", "-w"],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
    )
