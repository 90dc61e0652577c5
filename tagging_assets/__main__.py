from tagging_assets.cli import main

if __name__ == "__main__":
    main()
