#!/usr/bin/env python3
"""check-layering.py: the layering of ARCHITECTURE.md, checked on what was built.

  check-layering.py link NM LAYER=LIB... [app=EXECUTABLE]
      Reads the symbols of each layer's static libraries with nm and fails
      when a layer uses a symbol that a layer above it defines:
        kernels  may not use engine, plot, report, ui or app symbols, nor
                 GLib, GTK or cairo;
        engine   may not use plot, report, ui or app symbols, nor GTK or
                 cairo, nor BLAS or LAPACK directly (it goes through
                 kernels/host-linalg.h);
        plot and report may not use ui or app symbols, nor GTK;
        ui       may not use app symbols, nor kernels' (it goes through the
                 engine).
      The app's own symbols are the executable's defined symbols that no
      library defines (less the C runtime's, which start with "_").

  check-layering.py blocks BLOCKS_DIR
      Fails when a block source in engine/blocks/ names another block's type
      ("ReLU" as a string in a file that does not declare ReLU) or reads a
      neighbour's fields other than what every block shows (name, out, dout,
      out_shape, rf, jump) or reaches past its inputs (b->inputs[0]->inputs[0]). The
      exceptions below are the fusion that #17's plan rewrite removes; one
      that disappears must be taken off the list, so the list only shrinks.

Exits 0 when the layering holds, 1 with one line per violation otherwise.
"""
import os
import re
import subprocess
import sys

ORDER = ["kernels", "engine", "plot", "report", "ui", "app"]
# symbols of libraries a layer may not use, by prefix
FORBIDDEN_EXTERNAL = {
    "kernels": ("g_", "gtk_", "gdk_", "cairo_", "pango_", "json_", "sqlite3_"),
    "engine": ("gtk_", "gdk_", "cairo_", "pango_", "cblas_", "dsyevr_", "dgemm_", "sgemm_",
               "openblas_"),
    "plot": ("gtk_", "gdk_"),
    "report": ("gtk_", "gdk_"),
}
# layers below a layer that it may not use directly either
NOT_DIRECTLY = {"ui": ("kernels",)}


def nm(tool, path, *flags):
    out = subprocess.run([tool, *flags, path], check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def defined(tool, path):
    """Global symbols defined in path (text, data, bss, read-only)."""
    syms = set()
    for line in nm(tool, path, "--defined-only", "-g"):
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWGSC":
            syms.add(parts[2])
    return syms


def undefined(tool, path):
    syms = set()
    for line in nm(tool, path, "-u"):
        parts = line.split()
        if parts and parts[-1] and not parts[-1].endswith(":"):
            syms.add(parts[-1])
    return syms


def check_link(tool, args):
    libs = {}
    app = None
    for a in args:
        layer, _, path = a.partition("=")
        if layer == "app":
            app = path
        elif layer in ORDER:
            libs.setdefault(layer, []).append(path)
        else:
            sys.exit(f"check-layering: unknown layer {layer!r}")
    defs = {layer: set() for layer in ORDER}
    uses = {layer: {} for layer in ORDER}
    for layer, paths in libs.items():
        for p in paths:
            defs[layer] |= defined(tool, p)
            for s in undefined(tool, p):
                uses[layer].setdefault(s, os.path.basename(p))
    if app:
        lib_defs = set().union(*defs.values())
        # names with a leading underscore belong to the C runtime and libgcc
        defs["app"] = {s for s in defined(tool, app)
                       if s not in lib_defs and not s.startswith("_")}
    failures = []
    for i, layer in enumerate(ORDER):
        above = ORDER[i + 1:]
        for sym, lib in sorted(uses[layer].items()):
            if sym in defs[layer]:
                continue  # defined by another object of the same layer
            for up in above:
                if sym in defs[up]:
                    failures.append(f"{lib} ({layer}) uses {sym}, which {up} defines")
            for below in NOT_DIRECTLY.get(layer, ()):
                if sym in defs[below]:
                    failures.append(f"{lib} ({layer}) uses {sym} of {below} directly")
            if sym.startswith(FORBIDDEN_EXTERNAL.get(layer, ())):
                failures.append(f"{lib} ({layer}) uses {sym} directly")
    checked = ", ".join(f"{l} ({len(defs[l])} symbols)" for l in ORDER if defs[l])
    return failures, f"layers checked: {checked}"


# (file, the offending text) of the fusion that blocks still do themselves
KNOWN = {
    ("batchnorm.c", 'type name "ReLU"'),
    ("batchnorm.c", "reads b->chain_end (another block)"),
    ("batchnorm.c", "reads inputs[0]->dout_written"),
    ("dropout.c", "reads inputs[0]->absorbed"),
    ("dropout.c", "reaches past its input: inputs[0]->inputs"),
}
INPUT_INTERFACE = {"name", "out", "dout", "out_shape", "rf", "jump"}
TYPE_DECL = re.compile(r'\.type\s*=\s*"([^"]+)"|LL_\w+_DESC\(\s*"([^"]+)"')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def check_blocks(folder):
    sources = {f: strip_comments(open(os.path.join(folder, f)).read())
               for f in sorted(os.listdir(folder)) if f.endswith(".c")}
    own = {f: {a or b for a, b in TYPE_DECL.findall(t)} for f, t in sources.items()}
    types = set().union(*own.values())
    if len(types) < 10:
        return [f"found only {len(types)} block types in {folder}: is it engine/blocks?"], ""
    found = set()
    for f, text in sources.items():
        for lit in STRING.findall(text):
            if lit in types and lit not in own[f]:
                found.add((f, f'type name "{lit}"'))
        for field in re.findall(r"inputs\[[^\]]*\]->(\w+)", text):
            if field == "inputs":
                found.add((f, "reaches past its input: inputs[0]->inputs"))
            elif field not in INPUT_INTERFACE:
                found.add((f, f"reads inputs[0]->{field}"))
        if re.search(r"\bchain_end\b", text):
            found.add((f, "reads b->chain_end (another block)"))
    failures = [f"engine/blocks/{f}: {what}" for f, what in sorted(found - KNOWN)]
    failures += [f"engine/blocks/{f}: no longer {what}: take it off KNOWN in {__file__}"
                 for f, what in sorted(KNOWN - found)]
    return failures, (f"{len(sources)} block sources, {len(types)} block types, "
                      f"{len(found & KNOWN)} known exceptions")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "link":
        failures, summary = check_link(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 3 and sys.argv[1] == "blocks":
        failures, summary = check_blocks(sys.argv[2])
    else:
        sys.exit(__doc__)
    for line in failures:
        print("FAIL", line)
    print("#", summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
