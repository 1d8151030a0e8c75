"""The supervisors' pages: the live dashboard, the weekly report and quality review; agents' own reviews."""
