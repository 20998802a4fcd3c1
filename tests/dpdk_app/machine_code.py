"""Reads a built program's machine code for the tests that check what
optimisation kept or removed (prefetch_kept_test.py, no_rep_stos_test.py):
a hint or a flag that stops applying changes no output, so only the
disassembly can tell."""
import re
import shutil
import subprocess
import sys

FUNC = re.compile(r"^[0-9a-f]+ <(.*)>:$")


def functions(path, instruction):
    """(every function of `path`, those holding an instruction that matches
    the regex `instruction`), by demangled name (objdump -d -C)."""
    if shutil.which("objdump") is None:
        sys.exit("FAIL: objdump (binutils) is missing: it comes with the compiler")
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", path],
                         check=True, capture_output=True, text=True).stdout
    seen, matching, current = set(), set(), None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            current = m.group(1)
            seen.add(current)
        elif current is not None and instruction.search(line):
            matching.add(current)
    return seen, matching
