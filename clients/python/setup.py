"""Builds engram-client: generates the engram.v1 gRPC modules from the repository's proto/ at build time."""
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def proto_dir() -> Path:
    given = os.environ.get("ENGRAM_PROTO_DIR")
    path = Path(given) if given else Path(__file__).resolve().parent.parent.parent / "proto"
    if not (path / "engram" / "v1").is_dir():
        raise SystemExit(f"engram-client: no engram/v1 protos under {path} (set ENGRAM_PROTO_DIR)")
    return path


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
setup(cmdclass={"build_py": BuildWithStubs})
