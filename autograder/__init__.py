"""The course kit's autograder: grades nbgrader submissions against numerical gradients, safely."""
