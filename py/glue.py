"""PyScript glue: the only module that touches the DOM from Python."""

import platform

from pyscript import document

document.getElementById("python-version").textContent = platform.python_version()
document.documentElement.dataset.phase = "ready"
