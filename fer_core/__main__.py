import os
import sys

# TensorFlow's C++ start-up chatter (CPU feature notes, absl banners) hides the one line that matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fer_core.quiet_import import quiet_tensorflow_import  # noqa: E402

quiet_tensorflow_import()  # the oneDNN notice ignores TF_CPP_MIN_LOG_LEVEL

from fer_core.cli import main  # noqa: E402

sys.exit(main())
