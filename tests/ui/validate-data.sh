#!/bin/sh
# Validates the desktop file and the AppStream metainfo; skips (77) when the
# validators are not installed.
set -e
desktop="$1"
metainfo="$2"
command -v desktop-file-validate >/dev/null 2>&1 || exit 77
command -v appstreamcli >/dev/null 2>&1 || exit 77
desktop-file-validate "$desktop"
appstreamcli validate --no-net --pedantic "$metainfo" || appstreamcli validate --no-net "$metainfo"
