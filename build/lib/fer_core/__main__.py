import sys

from fer_core.quiet_import import quiet_tensorflow_import

# TensorFlow's C++ start-up chatter (CPU feature notes, absl banners, the oneDNN notice) hides the one line that
# matters; set up before anything imports TensorFlow.
quiet_tensorflow_import()

from fer_core.cli import main  # noqa: E402

sys.exit(main())
