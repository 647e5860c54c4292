"""Prism, the Go runner that Beam's DirectRunner hands streaming pipelines to.

Beam downloads Prism from GitHub releases on first use, which cannot work offline. Here
it is built from the Go module proxy at the exact Beam version of the installed SDK and
put, zipped as the release is, at the path in Beam's cache where the download would have
landed, so ``--runner=DirectRunner --streaming`` behaves as it does with internet.
"""

from __future__ import annotations

import os
import platform
import subprocess
import zipfile
from pathlib import Path

from apache_beam.runners.portability.prism_runner import PrismJobServer
from apache_beam.version import __version__ as BEAM_VERSION

from newsmon.deploy.local_service import Progress, ServiceError, require_tool
from newsmon.settings import Settings

PRISM_MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"


def release_zip() -> Path:
    """Where Beam looks for the cached Prism release archive of this SDK version."""
    tag = "v" + BEAM_VERSION
    url = PrismJobServer._construct_download_url(tag, tag, platform.system(), platform.machine())
    return Path(PrismJobServer.BIN_CACHE) / url.rsplit("/", 1)[1]


def ensure_prism(settings: Settings, progress: Progress = lambda _msg: None) -> Path:
    """Build Prism once (``go install``) and place it in Beam's cache; returns the zip."""
    target = release_zip()
    if target.exists() and zipfile.is_zipfile(target):
        return target
    go = require_tool("go", f"build Prism {BEAM_VERSION} for Beam's DirectRunner",
                      "Install Go 1.22+ (https://go.dev/doc/install).")
    gobin = settings.cache / "prism" / f"v{BEAM_VERSION}"
    progress(f"prism: building {PRISM_MODULE}@v{BEAM_VERSION} from the Go module proxy (first run only)")
    done = subprocess.run([go, "install", f"{PRISM_MODULE}@v{BEAM_VERSION}"],
                          env=os.environ | {"GOBIN": str(gobin), "GOFLAGS": "-mod=mod"},
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"prism: `go install` failed:\n{(done.stdout + done.stderr).strip()[-1500:]}"
        raise ServiceError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
        # Beam extracts the member named like the archive without ".zip".
        bundle.write(gobin / "prism", target.stem)
    partial.rename(target)
    progress(f"prism: {target}")
    return target
