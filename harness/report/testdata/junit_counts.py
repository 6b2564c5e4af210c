"""An independent reader of junit.xml, as a CI system would be: Python's
standard library only, none of hookcert's Go code. It prints what it read
as JSON on stdout for hookcert's tests to compare with the report:

  python3 junit_counts.py junit.xml
"""
import json
import sys
import xml.etree.ElementTree as ET


def main(path):
    root = ET.parse(path).getroot()
    if root.tag != "testsuites":
        raise SystemExit("%s: root element is <%s>, want <testsuites>" % (path, root.tag))
    out = {
        "declared": {k: int(root.get(k)) for k in ("tests", "failures", "errors", "disabled")},
        "tests": 0, "failures": 0, "errors": 0, "skipped": 0, "passed": 0,
        "suites": [],
    }
    for suite in root.findall("testsuite"):
        s = {"name": suite.get("name"), "tests": int(suite.get("tests")),
             "failures": int(suite.get("failures")), "skipped": int(suite.get("skipped")),
             "errors": int(suite.get("errors")), "cases": []}
        for case in suite.findall("testcase"):
            c = {"name": case.get("name"), "classname": case.get("classname"),
                 "status": case.get("status"), "outcome": "passed"}
            failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
            if failure is not None:
                c["outcome"] = "failed"
                c["message"] = failure.get("message")
                c["body"] = failure.text or ""
            elif error is not None:
                c["outcome"] = "error"
                c["message"] = error.get("message")
                c["body"] = error.text or ""
            elif skipped is not None:
                c["outcome"] = "skipped"
                c["message"] = skipped.get("message")
            so = case.find("system-out")
            c["systemOut"] = so.text if so is not None and so.text else ""
            out["tests"] += 1
            key = {"failed": "failures", "error": "errors", "skipped": "skipped", "passed": "passed"}[c["outcome"]]
            out[key] += 1
            s["cases"].append(c)
        out["suites"].append(s)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
