"""Plan 002's spreadsheet round trip against a running Sluice server, checked by openpyxl (a
real .xlsx library, not Sluice's own reader): a workbook written by LibreOffice goes up, the
results come down as a workbook that openpyxl opens, with the rows in order.

The server's address and key come from SLUICE_URL and SLUICE_KEY (scripts/system-test.sh).
"""

import io
import json
import os
import time
import unittest
import urllib.request

import openpyxl

BASE = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("SLUICE_KEY", "unused")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def call(method, path, body=None, content_type=None):
    request = urllib.request.Request(BASE + path, data=body, method=method)
    request.add_header("Authorization", f"Bearer {KEY}")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers, response.read()


class SpreadsheetRoundTrip(unittest.TestCase):
    def test_a_workbook_up_and_a_workbook_down(self):
        with open(os.path.join(ROOT, "Examples", "chats.xlsx"), "rb") as handle:
            workbook = handle.read()
        status, _, body = call(
            "POST", "/v1/jobs?preset=chat-answer&filename=chats.xlsx", workbook,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.assertEqual(status, 202, body)
        job_id = json.loads(body)["id"]
        deadline = time.time() + 60
        while True:
            job = json.loads(call("GET", f"/v1/jobs/{job_id}")[2])
            if job["status"] in ("completed", "completed_with_errors", "failed", "cancelled", "expired"):
                break
            self.assertLess(time.time(), deadline, job)
            time.sleep(0.1)
        self.assertEqual(job["status"], "completed", job)
        status, headers, body = call("GET", f"/v1/jobs/{job_id}/results?format=xlsx")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[0][:4], ("question", "chatId", "URL", "lang"))
        self.assertIn("sluice_status", rows[0])
        self.assertEqual(len(rows), 16)
        self.assertEqual(rows[1][0], "Hello, can you help me plan a trip?")
        status_column = rows[0].index("sluice_status")
        self.assertTrue(all(row[status_column] == "succeeded" for row in rows[1:]))


if __name__ == "__main__":
    unittest.main()
