"""Builds engram-client: generates the engram.v1 gRPC modules from the engram/v1 protos at build time.

The protos are the repository's proto/ (ENGRAM_PROTO_DIR overrides); an sdist carries a copy of them in its own
proto/, so that it builds anywhere, without the repository."""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def proto_dir() -> Path:
    given = os.environ.get("ENGRAM_PROTO_DIR")
    candidates = [Path(given)] if given else [HERE / "proto", HERE.parent.parent / "proto"]
    for path in candidates:
        if (path / "engram" / "v1").is_dir():
            return path
    raise SystemExit(f"engram-client: no engram/v1 protos under {' or '.join(map(str, candidates))} (build from the "
                     "repository or from an sdist, or set ENGRAM_PROTO_DIR)")


class SdistWithProtos(sdist):
    """sdist, with the engram/v1 protos copied into the release tree's proto/."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        target = Path(base_dir) / "proto" / "engram" / "v1"
        target.mkdir(parents=True, exist_ok=True)
        for proto in sorted((proto_dir() / "engram" / "v1").glob("*.proto")):
            shutil.copy2(proto, target / proto.name)


class BuildWithStubs(build_py):
    """build_py, then protoc: engram/v1/*_pb2.py, *_pb2_grpc.py and *.pyi into the build directory."""

    def run(self):
        super().run()
        from grpc_tools import protoc
        import grpc_tools

        source = proto_dir()
        out = Path(self.build_lib)
        protos = sorted(str(p.relative_to(source)) for p in (source / "engram" / "v1").glob("*.proto"))
        include = str(Path(grpc_tools.__file__).parent / "_proto")
        # google/rpc/error_details.proto (BatchEditResponse.bad_request) ships with googleapis-common-protos
        from google.rpc import error_details_pb2
        common = str(Path(error_details_pb2.__file__).parent.parent.parent)
        code = protoc.main(["grpc_tools.protoc", f"-I{source}", f"-I{include}", f"-I{common}", f"--python_out={out}",
                            f"--grpc_python_out={out}", f"--pyi_out={out}", *protos])
        if code != 0:
            raise SystemExit(f"engram-client: protoc failed ({code})")
        for package in (out / "engram", out / "engram" / "v1"):
            (package / "__init__.py").touch()


# The generated engram/ and engram/v1/ land in build_lib beside engram_client/, and the wheel takes all of build_lib.
setup(cmdclass={"build_py": BuildWithStubs, "sdist": SdistWithProtos})
