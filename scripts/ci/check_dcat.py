#!/usr/bin/env python3
"""Check Baraza's DCAT catalogue: the three syntaxes agree, and the Turtle passes DCAT-AP 3 SHACL.

Usage:
    python3 scripts/ci/check_dcat.py BASE_URL
        Fetches BASE_URL/catalog.ttl, /catalog.jsonld and /catalog.rdf, every page of each
        (following hydra:next, or CKAN's literal hydra:nextPage), parses them with rdflib,
        checks that the three graphs describe the same dcat:Dataset nodes, and validates the
        Turtle graph with pyshacl.

    python3 scripts/ci/check_dcat.py --file catalog.ttl [--file catalog.jsonld ...]
        The same checks offline, on files (syntax from the extension: .ttl, .jsonld/.json,
        .rdf/.xml); no paging is followed. Every file given is validated.

    cargo test -p baraza-publish --lib dcat::tests::sample_catalogue -- --nocapture \
        | python3 scripts/ci/check_dcat.py --sample -
        The same checks on the sample pages the Rust test prints between
        "-----BEGIN TURTLE n-----" / "-----END TURTLE-----" markers (and JSONLD, RDFXML): the
        pages of each syntax are merged, as when fetched, and the Turtle is validated.

Options:
    --shapes PATH   a SHACL shapes file (repeatable). Default: dcat-ap-3/dcat-ap-SHACL.ttl
                    beside this script when it is there (the SEMIC release file), else
                    dcat-ap-3/core-shapes.ttl (our subset; see dcat-ap-3/SOURCE.md).
    --max-pages N   stop following pages after N per syntax (default 1000).

Only results of severity sh:Violation fail the check; warnings and infos are listed.
Exit status: 0 when everything passes, 1 on a mismatch or a violation, 2 when something could
not be fetched or parsed. Needs: pip install rdflib pyshacl
"""

import argparse
import os
import re
import sys
import urllib.error
import urllib.request
from collections import Counter

try:
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.compare import graph_diff, isomorphic, to_isomorphic
    from rdflib.namespace import RDF
except ImportError:  # pragma: no cover
    sys.exit("check_dcat: rdflib is missing (pip install rdflib pyshacl)")

DCAT = Namespace("http://www.w3.org/ns/dcat#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SH = Namespace("http://www.w3.org/ns/shacl#")

HERE = os.path.dirname(os.path.abspath(__file__))
OFFICIAL_SHAPES = os.path.join(HERE, "dcat-ap-3", "dcat-ap-SHACL.ttl")
CORE_SHAPES = os.path.join(HERE, "dcat-ap-3", "core-shapes.ttl")

# extension -> (rdflib format, Accept header)
SYNTAXES = {
    "ttl": ("turtle", "text/turtle"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),
}


class Failure(Exception):
    """Something could not be fetched or parsed (exit 2)."""


def syntax_of(path):
    ext = path.rsplit(".", 1)[-1].lower()
    return {"ttl": "ttl", "jsonld": "jsonld", "json": "jsonld", "rdf": "rdf", "xml": "rdf"}.get(ext)


def fetch(url, accept, timeout):
    req = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "baraza-check-dcat"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except (urllib.error.URLError, OSError) as e:
        raise Failure(f"cannot fetch {url}: {e}") from e


def parse(data, fmt, where):
    g = Graph()
    try:
        g.parse(data=data, format=fmt, publicID=where)
    except Exception as e:  # rdflib raises many kinds
        raise Failure(f"cannot parse {where} as {fmt}: {e}") from e
    return g


def next_page(g, current):
    """The next page's URL from a page's Hydra node, or None."""
    subjects = set(g.subjects(RDF.type, HYDRA.PagedCollection)) | set(
        g.subjects(RDF.type, HYDRA.PartialCollectionView)
    )
    for s in subjects or set(g.subjects()):
        for p in (HYDRA.next, HYDRA.nextPage):
            for o in g.objects(s, p):
                url = str(o)
                if url and url != current:
                    return url
    return None


def fetch_all(base, ext, max_pages, timeout):
    fmt, accept = SYNTAXES[ext]
    url = f"{base}/catalog.{ext}"
    graph, seen, pages = Graph(), set(), 0
    while url and url not in seen:
        if pages >= max_pages:
            print(f"  {ext}: stopped after {max_pages} pages")
            break
        seen.add(url)
        page = parse(fetch(url, accept, timeout), fmt, url)
        graph += page
        pages += 1
        url = next_page(page, url)
    print(f"  {ext}: {pages} page(s), {len(graph)} triples")
    return graph


MARKER = re.compile(r"-----BEGIN (TURTLE|JSONLD|RDFXML) (\d+)-----\n(.*?)-----END \1-----", re.S)
MARKED = {"TURTLE": "ttl", "JSONLD": "jsonld", "RDFXML": "rdf"}


def read_sample(path):
    """The sample pages printed by the Rust test, merged per syntax."""
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    graphs = {}
    for m in MARKER.finditer(text):
        ext = MARKED[m.group(1)]
        where = f"sample page {m.group(2)} ({ext})"
        graphs.setdefault(ext, Graph())
        graphs[ext] += parse(m.group(3).encode("utf-8"), SYNTAXES[ext][0], "urn:sample:" + ext)
        print(f"  {where}: parsed")
    if set(graphs) != set(SYNTAXES):
        raise Failure(f"{path}: expected sample pages in the three syntaxes, found {sorted(graphs)}")
    return graphs


def datasets(g):
    return {str(s) for s in g.subjects(RDF.type, DCAT.Dataset)}


def compare(graphs):
    """Problems when the graphs do not describe the same datasets, or are not the same graph."""
    problems = []
    names = list(graphs)
    counts = {name: len(datasets(g)) for name, g in graphs.items()}
    print("dcat:Dataset nodes: " + ", ".join(f"{n} {c}" for n, c in counts.items()))
    if len(set(counts.values())) > 1:
        problems.append(f"the syntaxes disagree on the number of datasets: {counts}")
    for other in names[1:]:
        a, b = datasets(graphs[names[0]]), datasets(graphs[other])
        if a != b:
            only_a = sorted(a - b)[:5]
            only_b = sorted(b - a)[:5]
            problems.append(
                f"{names[0]} and {other} list different datasets "
                f"(only in {names[0]}: {only_a}; only in {other}: {only_b})"
            )
    if not any(counts.values()):
        problems.append("no dcat:Dataset at all")
    # Beyond the datasets: the same graph, once the paging URLs' extension is set aside.
    normal = {name: without_extension(g) for name, g in graphs.items()}
    for other in names[1:]:
        if not isomorphic(normal[names[0]], normal[other]):
            _, only_a, only_b = graph_diff(to_isomorphic(normal[names[0]]), to_isomorphic(normal[other]))
            def sample(g):
                return [" ".join(t.n3() for t in triple) for triple in sorted(g)[:3]]

            problems.append(
                f"{names[0]} ({len(graphs[names[0]])} triples) and {other} ({len(graphs[other])} triples) "
                f"are different graphs; only in {names[0]}: {sample(only_a)}; only in {other}: {sample(only_b)}"
            )
    return problems


PAGE_EXT = re.compile(r"/catalog\.(ttl|jsonld|rdf)(?=\?|$)")


def without_extension(g):
    """The graph with /catalog.ttl, .jsonld and .rdf (the paging URLs) all written /catalog.*"""

    def norm(t):
        if isinstance(t, URIRef):
            return URIRef(PAGE_EXT.sub("/catalog.*", str(t)))
        if isinstance(t, Literal) and t.datatype is None and t.language is None:
            return Literal(PAGE_EXT.sub("/catalog.*", str(t)))
        return t

    out = Graph()
    for s, p, o in g:
        out.add((norm(s), p, norm(o)))
    return out


def load_shapes(paths):
    shapes = Graph()
    for path in paths:
        try:
            shapes.parse(path, format="turtle")
        except Exception as e:
            raise Failure(f"cannot read shapes {path}: {e}") from e
    return shapes


def short(node, g):
    if isinstance(node, URIRef):
        try:
            return g.namespace_manager.normalizeUri(node)
        except Exception:
            return f"<{node}>"
    if isinstance(node, Literal):
        text = str(node)
        return repr(text if len(text) < 80 else text[:77] + "...")
    return "[blank node]"


def validate(data_graph, shapes, label):
    """SHACL results as (violations, others): lists of readable lines."""
    try:
        from pyshacl import validate as shacl_validate
    except ImportError:
        raise Failure("pyshacl is missing (pip install pyshacl)")
    _conforms, results, _text = shacl_validate(
        data_graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    data_graph.namespace_manager.bind("sh", SH)
    violations, others = [], []
    for r in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(r, SH.resultSeverity)
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        messages = [str(m) for m in results.objects(r, SH.resultMessage)]
        line = f"{label}: {short(focus, data_graph)}"
        if path is not None:
            line += f" {short(path, data_graph)}"
        if value is not None:
            line += f" = {short(value, data_graph)}"
        line += ": " + ("; ".join(messages) or str(results.value(r, SH.sourceConstraintComponent)))
        (violations if severity == SH.Violation else others).append(
            (str(severity).rsplit("#", 1)[-1], line)
        )
    return violations, others


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", nargs="?", help="the site's root URL, e.g. https://data.example.org")
    ap.add_argument("--file", action="append", default=[], help="check a file instead (repeatable)")
    ap.add_argument("--sample", help="check the Rust sample test's output (a file, or - for stdin)")
    ap.add_argument("--shapes", action="append", default=[], help="SHACL shapes file (repeatable)")
    ap.add_argument("--max-pages", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    if sum(map(bool, (args.base, args.file, args.sample))) != 1:
        ap.error("give one of BASE_URL, --file or --sample")

    shape_paths = args.shapes or [OFFICIAL_SHAPES if os.path.exists(OFFICIAL_SHAPES) else CORE_SHAPES]
    try:
        shapes = load_shapes(shape_paths)
        graphs = {}
        if args.file:
            for path in args.file:
                ext = syntax_of(path)
                if ext is None:
                    raise Failure(f"{path}: unknown syntax (use .ttl, .jsonld or .rdf)")
                with open(path, "rb") as f:
                    g = parse(f.read(), SYNTAXES[ext][0], "file://" + os.path.abspath(path))
                print(f"  {path}: {len(g)} triples")
                graphs[path] = g
            to_validate = list(graphs.items())
        elif args.sample:
            graphs = read_sample(args.sample)
            to_validate = [("ttl", graphs["ttl"])]
        else:
            base = args.base.rstrip("/")
            print(f"Fetching the catalogue of {base}")
            for ext in SYNTAXES:
                graphs[ext] = fetch_all(base, ext, args.max_pages, args.timeout)
            to_validate = [("ttl", graphs["ttl"])]

        problems = compare(graphs) if len(graphs) > 1 else []
        if len(graphs) == 1:
            print("dcat:Dataset nodes: " + str(len(datasets(next(iter(graphs.values()))))))

        print("SHACL shapes: " + ", ".join(os.path.relpath(p) for p in shape_paths))
        violations, others = [], []
        for label, g in to_validate:
            v, o = validate(g, shapes, label)
            violations += v
            others += o
    except Failure as e:
        print(f"check_dcat: {e}", file=sys.stderr)
        return 2

    if others:
        kinds = Counter(k for k, _ in others)
        print(f"{len(others)} non-blocking SHACL result(s): " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
        for _, line in others[:50]:
            print(f"  - {line}")
    if violations:
        print(f"{len(violations)} SHACL violation(s):")
        for _, line in violations[:200]:
            print(f"  - {line}")
        if len(violations) > 200:
            print(f"  ... and {len(violations) - 200} more")
    for p in problems:
        print(f"MISMATCH: {p}")
    if violations or problems:
        print("DCAT check FAILED")
        return 1
    print("DCAT check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
