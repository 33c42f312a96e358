# Sourced by .ci/run after the pip install: build the self-contained bundle (packaging/build_bundle.py)
# and export GEOTAGGER_BUNDLE for tests/test_bundle_smoke.py. A bundle built from the same inputs (the
# files it is built from, geotagger/resources through its link included; the installed packages; Python
# and machine) is reused from ~/.cache/geotagger-bundle/<hash>; a cold build takes 2 to 4 minutes on 2
# cores, a reuse 3 s.

bundle_step() {
    python3 -m pip install -q pyinstaller==6.22.0
    local cache="${GEOTAGGER_BUNDLE_CACHE:-$HOME/.cache/geotagger-bundle}" key
    key="$(
        {
            find -L geotagger packaging/bundle packaging/build_bundle.py -type f \
                -not -path '*/__pycache__/*' -not -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum
            python3 -m pip freeze --exclude-editable
            python3 --version
            uname -m
        } | sha256sum | cut -c1-16
    )"
    local ready="$cache/$key/geotagger"
    if [[ -x "$ready/geotagger" ]]; then
        echo "bundle: reusing $ready"
    else
        echo "bundle: building (inputs $key)"
        local tmp="$cache/.build-$key-$$"
        mkdir -p "$cache"
        # Left by builds that failed (set -e stops before the cleanup below) more than 2 hours ago.
        find "$cache" -mindepth 1 -maxdepth 1 -name '.build-*' -mmin +120 -exec rm -rf {} +
        rm -rf "$tmp"
        mkdir -p "$tmp"
        local started=$SECONDS
        python3 packaging/build_bundle.py --dist "$tmp/dist" --work "$tmp/work" --no-tarball
        echo "bundle: cold build took $((SECONDS - started)) s"
        rm -rf "$cache/$key"
        mkdir -p "$cache/$key"
        mv "$tmp/dist/geotagger" "$ready"
        rm -rf "$tmp"
        # Keep the two newest bundles only (each is a few hundred MB).
        find "$cache" -mindepth 1 -maxdepth 1 -type d -not -name '.*' -printf '%T@ %p\n' |
            sort -rn | tail -n +3 | cut -d' ' -f2- | xargs -r rm -rf
    fi
    export GEOTAGGER_BUNDLE="$ready"
}

bundle_step
