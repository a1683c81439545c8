#!/bin/sh
# Debian packages Kechuang's tests and documents need; installs only what is missing.
#   chromium        real browser for the page tests (driven by Playwright, never downloaded)
#   fonts-noto-cjk  Chinese glyphs in screenshots, PDFs and charts
#   poppler-utils   pdftoppm, to look at generated PDFs as images in tests
#   libreoffice-calc-nogui  a second spreadsheet program: templates must survive its re-save
#   libreoffice-writer-nogui  opens the Word documents we write (converted to PDF in tests)
set -eu
missing=""
for pkg in chromium fonts-noto-cjk poppler-utils libreoffice-calc-nogui libreoffice-writer-nogui; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: please install:$missing (Debian/Ubuntu: apt-get install$missing)" >&2
  exit 0
fi
echo "system-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
