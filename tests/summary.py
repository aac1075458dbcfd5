"""Print one summary line for `make test`: unit (cmocka) + integration
(pytest junit XML).  Usage: summary.py UNIT_RESULTS JUNIT_XML"""

import os
import sys
import xml.etree.ElementTree as ET


def unit_counts(path):
    passed = failed = 0
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    passed += int(parts[1])
                    failed += int(parts[2])
    return passed, failed


def integration_counts(path):
    if not os.path.exists(path):
        return 0, 1, 0          # the suite did not run at all: a failure
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failed = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    return tests - failed - skipped, failed, skipped


def main():
    up, uf = unit_counts(sys.argv[1])
    ip, if_, isk = integration_counts(sys.argv[2])
    print("unit: %d passed, %d failed; integration: %d passed, %d failed, "
          "%d skipped" % (up, uf, ip, if_, isk))
    print("total: %d passed, %d failed, %d skipped"
          % (up + ip, uf + if_, isk))


if __name__ == "__main__":
    main()
