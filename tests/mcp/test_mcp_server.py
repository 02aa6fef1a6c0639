def test_x() -> None:
    import mcp
    print(mcp.__file__)
    from mcp import Client
