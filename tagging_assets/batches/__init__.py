"""The batch workflow over one backend: records, submit once, status, download and write-back."""
