#!/usr/bin/env python3
"""translate.py IN OUT: a kernels/cuda source (.cu or .cuh) as C++ for HIP-CPU.

Every launch `kernel<<<grid, block, shmem, stream>>>(args);` becomes
`LL_CUDA_ON_CPU_LAUNCH((kernel), (grid), (block), (shmem), (stream), (args)...);`
(cuda_runtime.h in include/ checks the geometry as CUDA does, then hands it to
hipLaunchKernelGGL). Each piece is parenthesised so that commas inside braces
or template arguments never split a macro argument. Nothing else changes: the
CUDA names are served by the headers in include/, so the line numbers that
file:line error messages carry are the original's."""
import re
import sys


def matching(text, i, open_c, close_c):
    """Index just past the bracket that closes text[i] (== open_c)."""
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == open_c:
            depth += 1
        elif c == close_c:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError(f"unbalanced {open_c} at offset {i}")


def split_top(text):
    """Splits at the commas outside (), [] and {}."""
    parts, depth, start = [], 0, 0
    for j, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:j].strip())
            start = j + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def kernel_start(text, end):
    """Start of the kernel expression ending at end: an identifier, possibly
    qualified, possibly with template arguments (`ll_channel_sums_kernel<K>`)."""
    j = end
    if text[j - 1] == ">":
        depth = 0
        while j > 0:
            j -= 1
            if text[j] == ">":
                depth += 1
            elif text[j] == "<":
                depth -= 1
                if depth == 0:
                    break
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_:"):
        j -= 1
    return j


def skipped(src):
    """The (start, end) spans of comments and string literals."""
    return [m.span() for m in re.finditer(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"', src, re.S)]


def translate(src):
    out, pos = [], 0
    spans = skipped(src)
    while True:
        at = src.find("<<<", pos)
        while at >= 0 and any(a <= at < b for a, b in spans):
            at = src.find("<<<", at + 3)
        if at < 0:
            out.append(src[pos:])
            return "".join(out)
        start = kernel_start(src, at)
        kernel = src[start:at].strip()
        if not re.match(r"^[A-Za-z_][\w:]*(<.*>)?$", kernel, re.S):
            raise ValueError(f"cannot read the kernel before <<< at offset {at}: {kernel!r}")
        close = src.find(">>>", at)
        config = split_top(src[at + 3:close])
        if not 2 <= len(config) <= 4:
            raise ValueError(f"launch of {kernel}: expected 2 to 4 launch parameters, got {config}")
        config += ["0", "0"][: 4 - len(config)]
        p = close + 3
        while src[p].isspace():
            p += 1
        if src[p] != "(":
            raise ValueError(f"launch of {kernel}: no argument list after >>>")
        args_end = matching(src, p, "(", ")")
        # a kernel's parameters are typed where the launch passes them through
        # a tuple: a bare NULL would arrive as a long
        args = ["nullptr" if a == "NULL" else a for a in split_top(src[p + 1:args_end - 1])]
        pieces = [kernel] + config + args
        text = "LL_CUDA_ON_CPU_LAUNCH(" + ", ".join(f"({x})" for x in pieces) + ")"
        # keep the line count: launches span lines in the source
        text += "\n" * (src.count("\n", start, args_end) - text.count("\n"))
        out.append(src[pos:start])
        out.append(text)
        pos = args_end


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: translate.py IN OUT")
    with open(sys.argv[1], encoding="utf-8") as f:
        src = f.read()
    try:
        text = translate(src)
    except ValueError as e:
        sys.exit(f"{sys.argv[1]}: {e}")
    header = f'#line 1 "{sys.argv[1]}"\n'
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(header + text)


if __name__ == "__main__":
    main()
