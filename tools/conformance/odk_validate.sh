#!/usr/bin/env bash
# Runs ODK Validate — the JavaRosa form parser that ODK Collect is built on, shipped inside the
# pyxform package from PyPI — on the XForm that `baraza xlsform` makes for every accepted case of
# the conformance corpus. Usage: tools/conformance/odk_validate.sh PATH/TO/baraza
set -uo pipefail
bin="$1"
cd "$(dirname "$0")/../.."
jar="$(python3 -c 'import pyxform, os; print(os.path.join(os.path.dirname(pyxform.__file__), "validators/odk_validate/bin/ODK_Validate.jar"))')"
[ -f "$jar" ] || { echo "ODK_Validate.jar not found (pip install pyxform)"; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for case in crates/baraza-xlsform/tests/conformance/cases/*.md; do
  grep -q '^# expect: ok' "$case" || continue
  name="$(basename "$case" .md)"
  "$bin" xlsform "$case" -o "$out/$name.xml" 2>/dev/null || echo "$name" >> "$out/refused"
done
validate() {
  if java -Djava.awt.headless=true -jar "$0" "$1" >"$1.log" 2>&1 && grep -q 'Xform is valid' "$1.log"; then
    echo ok
  else
    echo "FAIL $(basename "$1" .xml)"; sed -n '1,8p' "$1.log"
  fi
}
export -f validate
results="$(ls "$out"/*.xml | xargs -P 2 -I{} bash -c 'validate "$@"' "$jar" {})"
pass=$(grep -c '^ok$' <<<"$results")
fail=$(grep -c '^FAIL' <<<"$results")
refused=$( [ -f "$out/refused" ] && wc -l < "$out/refused" || echo 0)
grep -A8 '^FAIL' <<<"$results" || true
[ -f "$out/refused" ] && sed 's/^/REFUSED /' "$out/refused"
echo "odk-validate: $pass passed, $((fail + refused)) failed"
[ "$fail" -eq 0 ] && [ "$refused" -eq 0 ]
