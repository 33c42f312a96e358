# Sourced by .ci/run: the CJK font the text-evidence tests render sign text with (tests/test_text_*.py
# draw 京都 / 島根県 with Noto Sans CJK). Never fails CI: without the font those tests skip, saying why.
# shellcheck shell=bash

if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null; } ||
        echo "warning: fonts-noto-cjk did not install; the CJK sign tests will skip" >&2
fi
