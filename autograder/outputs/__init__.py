"""What the grader writes for people after a class is graded: feedback pages, the class
report, nbgrader's gradebook and formgrader notebooks, the LMS CSV. Trusted side; every text a
student controls is escaped (`html.escape`, `markdown_guard`)."""
