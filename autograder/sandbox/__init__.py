"""Running student code: the sandbox layer, which knows nothing of grades.

- :mod:`.limits`: what a child may use (resource limits, packages, forbidden modules);
- :mod:`.bwrap`: the bubblewrap command; :mod:`.seccomp`: its system-call filter;
  :mod:`.zygote`: the grader's handle on a worker slot's long-lived sandbox, which forks
  the children;
- :mod:`.processes`: one running child (messages, deadlines, output caps, killing it);
- :mod:`.uids`: one unprivileged uid per worker slot (as root);
- :mod:`.launcher`: :class:`Sandbox`, which starts children with bubblewrap or, where it
  cannot, with weak isolation;
- :mod:`.session`: a notebook run in a child, called once per test case; it says what
  happened (:class:`~.session.Returned`, :class:`~.session.Raised`,
  :class:`~.session.Fault`), never what it is worth;
- :mod:`.inside`: everything that runs in the sandbox (``harness.py``, ``wire.py``),
  mounted there as one read-only folder; it imports the standard library and numpy only.

Nothing here imports :mod:`autograder.grading` or the class-level modules.
"""

from autograder.sandbox.launcher import WEAK_ISOLATION, Sandbox
from autograder.sandbox.limits import FORBIDDEN_MODULES, Limits
from autograder.sandbox.processes import SandboxError
from autograder.sandbox.uids import UidPool

__all__ = ["FORBIDDEN_MODULES", "WEAK_ISOLATION", "Limits", "Sandbox", "SandboxError", "UidPool"]
