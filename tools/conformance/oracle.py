#!/usr/bin/env python3
"""Conformance oracle for baraza-xlsform: turns the Markdown XLSForm cases into
golden files with pyxform (the XLSForm reference implementation).

    python3 tools/conformance/oracle.py generate [CASE ...]   # (re)write goldens
    python3 tools/conformance/oracle.py check [CASE ...]      # verify goldens, exit 1 on any difference
    python3 tools/conformance/oracle.py list                  # one line per case: name, expect, pyxform marker

CASE is a case file name or a prefix of it (e.g. `017` or `017-range-parameters`).
Only pyxform is needed (`pip install 'pyxform==4.5.0'`); ODK Validate (Java) is never run.
See tools/conformance/README.md for the case format.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

PYXFORM_VERSION = "4.5.0"  # the version the committed goldens were generated with

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "crates" / "baraza-xlsform" / "tests" / "conformance" / "cases"

ERROR_CODES = {
    "sheet_survey_missing", "survey_empty", "header_duplicate", "type_missing", "type_unknown",
    "name_missing", "name_invalid", "name_duplicate", "label_missing", "group_unclosed",
    "group_unmatched_end", "repeat_unclosed", "repeat_unmatched_end", "choices_list_name_missing",
    "choices_list_missing", "choice_name_missing", "choice_label_missing", "choice_duplicate",
    "reference_unknown", "calculation_cycle", "calculation_missing", "expr_syntax",
    "expr_unclosed_paren", "expr_unclosed_string", "expr_bad_reference", "expr_unknown_function",
    "expr_arity", "range_parameters_invalid", "parameters_invalid", "settings_form_id_invalid",
    "or_other_with_choice_filter",
}
WARNING_CODES = {"column_unknown", "translation_missing"}
CASE_NAME = re.compile(r"^\d{3}-[a-z0-9][a-z0-9-]*\.md$")
HEADER = re.compile(r"^#\s*([a-z_]+)\s*:\s*(.*?)\s*$")
ACCEPTED = "ACCEPTED"


@dataclass
class Case:
    path: Path
    title: str = ""
    covers: list[str] = field(default_factory=list)
    expect_ok: bool = True
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pyxform: str | None = None  # None, "accepts" or "rejects"
    table: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.path.name[: -len(".md")]

    @property
    def pyxform_should_accept(self) -> bool:
        if self.pyxform == "accepts":
            return True
        if self.pyxform == "rejects":
            return False
        return self.expect_ok

    def golden_path(self, pyxform_accepted: bool) -> Path:
        """`.xml` for an ok case that pyxform converts; `.pyxform.txt` otherwise."""
        if self.expect_ok and pyxform_accepted:
            return self.path.with_name(self.stem + ".xml")
        return self.path.with_name(self.stem + ".pyxform.txt")


def parse_case(path: Path) -> Case:
    case = Case(path=path)
    if not CASE_NAME.match(path.name):
        case.problems.append("file name must be NNN-lowercase-slug.md")
    text = path.read_text(encoding="utf-8")
    seen: set[str] = set()
    table_lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            m = HEADER.match(line.strip())
            if not m:
                case.problems.append(f"unreadable header line: {line!r}")
                continue
            key, value = m.group(1), m.group(2)
            if key in seen:
                case.problems.append(f"header '{key}' given twice")
            seen.add(key)
            if key == "title":
                case.title = value
            elif key == "covers":
                case.covers = [t.strip() for t in value.split(",") if t.strip()]
            elif key == "expect":
                if value == "ok":
                    case.expect_ok = True
                elif value.startswith("error:"):
                    case.expect_ok = False
                    case.errors = [c.strip() for c in value[len("error:"):].split(",") if c.strip()]
                    for c in case.errors:
                        if c not in ERROR_CODES:
                            case.problems.append(f"unknown error code '{c}'")
                    if not case.errors:
                        case.problems.append("expect: error: needs at least one code")
                else:
                    case.problems.append(f"bad expect value {value!r}")
            elif key == "warnings":
                case.warnings = [c.strip() for c in value.split(",") if c.strip()]
                for c in case.warnings:
                    if c not in WARNING_CODES:
                        case.problems.append(f"unknown warning code '{c}'")
            elif key == "pyxform":
                if value not in ("accepts", "rejects"):
                    case.problems.append(f"bad pyxform value {value!r} (accepts|rejects)")
                case.pyxform = value
            else:
                case.problems.append(f"unknown header '{key}'")
        else:
            table_lines.append(line)
    for required in ("title", "covers", "expect"):
        if required not in seen:
            case.problems.append(f"missing '# {required}:' header")
    if case.pyxform == "accepts" and case.expect_ok:
        case.problems.append("'# pyxform: accepts' only makes sense with 'expect: error:...'")
    if case.pyxform == "rejects" and not case.expect_ok:
        case.problems.append("'# pyxform: rejects' only makes sense with 'expect: ok'")
    case.table = "\n".join(table_lines).strip("\n") + "\n"
    return case


def run_pyxform(table: str) -> tuple[bool, str]:
    """Convert the Markdown table (header lines already stripped).

    Returns (accepted, output): the pretty-printed XForm, or pyxform's error message.
    The form is passed as bytes (no file path), so pyxform's fallback form id and
    title are both "data" unless the settings sheet says otherwise.
    """
    from pyxform.xls2xform import convert

    try:
        result = convert(
            xlsform=table.encode("utf-8"),
            file_type=".md",
            pretty_print=True,
            validate=False,
            enketo=False,
            warnings=[],
        )
    except Exception as exc:  # pyxform raises PyXFormError, but also e.g. KeyError on odd input
        message = str(exc).strip() or type(exc).__name__
        if type(exc).__name__ not in ("PyXFormError", "PyXFormReadError", "ValidationError"):
            message = f"{type(exc).__name__}: {message}"
        return False, normalise_text(message)
    return True, normalise_xml(result.xform)


def normalise_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def normalise_xml(xml: str) -> str:
    # pyxform 4.5.0's output has no random or time-dependent parts; we only fix line
    # endings, trailing blanks and the final newline so that goldens are byte-stable.
    return normalise_text(xml)


def golden_text(case: Case, accepted: bool, output: str) -> str:
    if case.expect_ok and accepted:
        return output
    if accepted:
        return f"{ACCEPTED}\n{output}"
    return output


def select_cases(cases_dir: Path, names: list[str]) -> list[Path]:
    paths = sorted(p for p in cases_dir.glob("*.md") if p.is_file() and p.name != "README.md")
    if names:
        wanted = []
        for n in names:
            n = os.path.basename(n)
            hits = [p for p in paths if p.name == n or p.name.startswith(n)]
            if not hits:
                sys.exit(f"oracle: no case matches {n!r}")
            wanted.extend(h for h in hits if h not in wanted)
        paths = wanted
    return paths


def check_pyxform_version() -> str:
    import pyxform

    version = getattr(pyxform, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("pyxform")
    if version != PYXFORM_VERSION:
        print(
            f"oracle: warning: pyxform {version} is installed but the goldens were made with "
            f"{PYXFORM_VERSION}; differences may come from the version",
            file=sys.stderr,
        )
    return version


def evaluate(case: Case) -> tuple[Path, str, list[str]]:
    """Run pyxform on one case; return (golden path, expected golden text, problems)."""
    problems = list(case.problems)
    accepted, output = run_pyxform(case.table)
    if accepted != case.pyxform_should_accept:
        if accepted:
            problems.append("pyxform accepts this form: add '# pyxform: accepts' or fix the case")
        else:
            first = output.splitlines()[0] if output else ""
            problems.append(f"pyxform rejects this form ({first}): add '# pyxform: rejects' or fix the case")
    return case.golden_path(accepted), golden_text(case, accepted, output), problems


def stale_goldens(cases_dir: Path, wanted: dict[Path, Path]) -> list[Path]:
    """Golden files with no case, or of the wrong kind for their case."""
    stale = []
    for p in sorted(cases_dir.iterdir()):
        if p.suffix == ".md" or not p.is_file():
            continue
        if p.name.endswith(".pyxform.txt"):
            stem = p.name[: -len(".pyxform.txt")]
        elif p.suffix == ".xml":
            stem = p.name[: -len(".xml")]
        else:
            stale.append(p)
            continue
        case_md = cases_dir / (stem + ".md")
        if case_md in wanted and wanted[case_md] != p:
            stale.append(p)
        elif not case_md.exists():
            stale.append(p)
    return stale


def cmd_generate(cases_dir: Path, names: list[str]) -> int:
    check_pyxform_version()
    paths = select_cases(cases_dir, names)
    wanted: dict[Path, Path] = {}
    warned = 0
    for path in paths:
        case = parse_case(path)
        golden, text, problems = evaluate(case)
        wanted[path] = golden
        golden.write_text(text, encoding="utf-8")
        for p in problems:
            warned += 1
            print(f"{path.name}: {p}")
    for p in stale_goldens(cases_dir, wanted):
        if p.with_name(p.name.split(".")[0] + ".md") in wanted or not names:
            p.unlink()
            print(f"removed stale golden {p.name}")
    print(f"oracle: wrote {len(paths)} goldens, {warned} case problems")
    return 1 if warned else 0


def first_difference(expected: str, actual: str) -> str:
    exp_lines, act_lines = expected.splitlines(), actual.splitlines()
    for i, (e, a) in enumerate(zip(exp_lines, act_lines)):
        if e != a:
            return f"line {i + 1}: golden {a!r} != pyxform {e!r}"
    return f"golden has {len(act_lines)} lines, pyxform gives {len(exp_lines)}"


def cmd_check(cases_dir: Path, names: list[str]) -> int:
    check_pyxform_version()
    paths = select_cases(cases_dir, names)
    passed = failed = 0
    wanted: dict[Path, Path] = {}
    for path in paths:
        case = parse_case(path)
        golden, text, problems = evaluate(case)
        wanted[path] = golden
        if not golden.exists():
            problems.append(f"missing golden {golden.name}")
        else:
            actual = golden.read_text(encoding="utf-8")
            if actual != text:
                problems.append(f"{golden.name} differs from pyxform: {first_difference(text, actual)}")
        if problems:
            failed += 1
            for p in problems:
                print(f"FAIL {path.name}: {p}")
        else:
            passed += 1
    if not names:
        for p in stale_goldens(cases_dir, wanted):
            failed += 1
            print(f"FAIL {p.name}: golden without a matching case (or of the wrong kind)")
    print(f"oracle: {passed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_list(cases_dir: Path, names: list[str]) -> int:
    for path in select_cases(cases_dir, names):
        case = parse_case(path)
        expect = "ok" if case.expect_ok else "error:" + ",".join(case.errors)
        extra = f" pyxform:{case.pyxform}" if case.pyxform else ""
        warn = f" warnings:{','.join(case.warnings)}" if case.warnings else ""
        print(f"{path.name}\t{expect}{warn}{extra}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["generate", "check", "list"])
    parser.add_argument("cases", nargs="*", help="case file names or prefixes (default: all)")
    parser.add_argument("--cases-dir", type=Path, default=CASES_DIR)
    args = parser.parse_args()
    if not args.cases_dir.is_dir():
        sys.exit(f"oracle: no cases directory {args.cases_dir}")
    if args.command == "generate":
        return cmd_generate(args.cases_dir, args.cases)
    if args.command == "check":
        return cmd_check(args.cases_dir, args.cases)
    return cmd_list(args.cases_dir, args.cases)


if __name__ == "__main__":
    sys.exit(main())
