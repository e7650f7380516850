from minicnn.recipes.cli import main

main()
