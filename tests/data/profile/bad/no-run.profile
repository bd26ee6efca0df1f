name: x
description: nothing to run
feature * a: --a
