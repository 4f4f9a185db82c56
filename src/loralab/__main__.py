"""`python -m loralab`, so launchers that start a module (`accelerate launch -m loralab train ...`) can."""

from loralab.cli.main import main

main()
