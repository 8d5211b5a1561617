from tools.reference.engine import main

main()
