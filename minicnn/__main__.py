from minicnn.cli import main

main()
