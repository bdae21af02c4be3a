#!/usr/bin/env bash
# Set up a machine for streamproc and run the demo or the whole test suite.
#
#   scripts/dev.sh demo    virtualenv + dependencies, then `streamproc demo` (local Kafka broker,
#                         topics, a worker, a replay of sample comments from five channels)
#   scripts/dev.sh test    the same set-up plus the test tools (Prometheus, word lists), then lint,
#                         type checks, every test (unit, Kafka integration, Prometheus end to
#                         end) and a short benchmark run
#   scripts/dev.sh audit   known vulnerabilities in constraints.txt (needs PyPI's JSON API or OSV)
#   scripts/dev.sh lock    pin every dependency's version in constraints.txt (after a change to
#                         pyproject.toml's dependencies); demo and test install those versions
#
# Needs python3 (>= 3.11), java (>= 17) and mvn; the Kafka jars are fetched from Maven Central
# on first use and cached in ~/.cache/streamproc. Idempotent: a second run reuses everything.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="${STREAMPROC_VENV:-$here/.venv}"

log() { printf '\033[1m[dev] %s\033[0m\n' "$*" >&2; }

ensure_venv() {
  local extras="$1" stamp
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating virtualenv $venv"
    python3 -m venv "$venv"
  fi
  stamp="$venv/.streamproc-installed-$extras-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    log "installing streamproc[$extras] and its dependencies"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    if [[ "$extras" == "test" ]]; then
      "$venv/bin/python" -m pip install --quiet -c constraints.txt -e ".[test]"
    else
      "$venv/bin/python" -m pip install --quiet -c constraints.txt -e .
    fi
    rm -f "$venv"/.streamproc-installed-"$extras"-*
    touch "$stamp"
  fi
}

# A non-editable install of the current sources, with the core compiled by mypyc as
# `pip install .` deploys it (the editable install in the venv stays pure Python, so that edits
# take effect at once). Cached per source digest; prints the directory to put on PYTHONPATH.
compiled_install() {
  local digest dir cache="${XDG_CACHE_HOME:-$HOME/.cache}/streamproc"
  # Everything the install holds (the default pack too), so that it is never stale.
  digest="$(find setup.py pyproject.toml streamproc -type f -not -path '*/__pycache__/*' -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  dir="$cache/compiled-$digest"
  if [[ ! -d "$dir" ]]; then
    log "compiling the core with mypyc (a non-editable install in $dir)"
    rm -rf "$cache"/compiled-*
    mkdir -p "$cache"
    rm -rf "$dir.tmp"
    "$venv/bin/python" -m pip install --quiet --no-deps --target "$dir.tmp" . >&2
    mv "$dir.tmp" "$dir"
  fi
  printf '%s\n' "$dir"
}

# Debian packages the tests use: a real Prometheus for the end-to-end scrape test, the Italian
# and English word lists for the dictionary precision test, the fortune files for the
# false-positive test.
ensure_test_packages() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  [[ -f /usr/share/dict/italian ]] || missing+=(witalian)
  [[ -f /usr/share/dict/american-english ]] || missing+=(wamerican)
  # Text nobody here wrote, for the false-positive checks (tests/unit/test_debian_text.py).
  [[ -f /usr/share/games/fortunes/fortunes ]] || missing+=(fortunes)
  [[ -d /usr/share/games/fortunes/it ]] || missing+=(fortunes-it)
  # The review console's tests: a real PostgreSQL server and a real browser with its driver.
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
  # Ops: kubectl renders the kustomize overlays; mmdebstrap, podman and buildah build the image
  # from a Debian base made locally (tests/ops).
  command -v kubectl >/dev/null || missing+=(kubectl)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v openssl >/dev/null || missing+=(openssl)  # the secured test broker's certificates
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

case "${1:-}" in
  demo)
    ensure_venv run
    exec "$venv/bin/streamproc" demo "${@:2}"
    ;;
  test)
    ensure_venv test
    ensure_test_packages
    log "lint and format (ruff)"
    "$venv/bin/ruff" check .
    "$venv/bin/ruff" format --check .
    log "types (mypy, strict)"
    "$venv/bin/mypy" streamproc benchmarks
    log "benchmarks (quick run; ratios against baselines measured side by side, floors checked)"
    compiled="$(compiled_install)"
    # -P: the compiled install, not the sources in the working directory, provides streamproc
    # (to the suite and, through PYTHONPATH and -P, to the worker and loops it starts).
    PYTHONPATH="$compiled:$here" "$venv/bin/python" -P -m benchmarks --quick
    log "tests (pytest)"
    exec "$venv/bin/python" -m pytest "${@:2}"
    ;;
  audit)
    # Known vulnerabilities in the pinned versions (pip-audit asks PyPI's or OSV's database, so
    # this needs those services to be reachable; the test machines here reach only the package
    # index, which is why CI does not run it).
    ensure_venv test
    "$venv/bin/python" -m pip install --quiet pip-audit
    exec "$venv/bin/pip-audit" --no-deps --disable-pip -r constraints.txt "${@:2}"
    ;;
  lock)
    # constraints.txt: the versions every install above uses, resolved afresh from pyproject.
    rm -rf "$here/.venv-lock"
    python3 -m venv "$here/.venv-lock"
    "$here/.venv-lock/bin/python" -m pip install --quiet -e ".[test]"
    {
      echo "# The versions scripts/dev.sh installs (and so CI tests). Regenerate with"
      echo "# \`scripts/dev.sh lock\` after changing the dependencies in pyproject.toml."
      "$here/.venv-lock/bin/python" -m pip freeze --exclude-editable | LC_ALL=C sort -f
    } >constraints.txt
    rm -rf "$here/.venv-lock"
    log "wrote constraints.txt"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test|lock|audit [args...]" >&2
    exit 2
    ;;
esac
