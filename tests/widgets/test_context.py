from widgets.context import CartItem, PageInfo, Signals, build_context, visitor_from_dict


def test_visitor_from_a_loose_profile_dict() -> None:
    visitor = visitor_from_dict({
        "known": 1, "first_name": None, "viewed": ["A", "", None, 7], "liked": ("B",),
        "cart": [{"sku": "C", "qty": "2", "price": "9.5"}, {"qty": 1}, {"sku": "D", "qty": "x"},
                 "junk", CartItem("E")],
        "advisor": "not a dict", "loyalty": {"points": 5}, "preferences": ["wrong type"],
        "unknown_key": True,
    })
    assert visitor.known is True and visitor.first_name == ""
    assert visitor.viewed == ("A", "7") and visitor.liked == ("B",)
    assert visitor.cart == (CartItem("C", 2, 9.5), CartItem("E"))
    assert visitor.advisor is None and visitor.loyalty == {"points": 5}
    assert visitor.preferences == {}
    assert visitor.has_history
    assert not visitor_from_dict(None).has_history


def test_build_context_from_dicts_and_defaults() -> None:
    ctx = build_context(page={"page_type": "product", "sku": "A", "ignored": 1},
                        placement={"id": "hero", "variant": 2},
                        signals={"bestsellers": [["A", 1], ["B", "3"], ["bad"], None]})
    assert ctx.page == PageInfo(page_type="product", sku="A")
    assert ctx.placement.id == "hero" and ctx.placement.variant == "2"
    assert ctx.signals.bestsellers == (("B", 3.0), ("A", 1.0))
    assert ctx.signals.bestseller_scores == {"B": 3.0, "A": 1.0}
    assert len(ctx.catalog) == 0 and ctx.language == "en" and ctx.currency == "PLN"


def test_signals_keep_given_order_on_equal_scores() -> None:
    signals = Signals.from_raw({"A": [("X", 1), ("Y", 2), ("Z", 1)]})
    assert [s for s, _ in signals.viewed_together["A"]] == ["Y", "X", "Z"]


def test_placements_given_as_dicts_are_each_their_own() -> None:
    from widgets.context import PlacementInfo, RenderContext

    first = build_context(placement={"id": "hero", "variant": "a", "experiment": "x"})
    again = build_context(placement={"id": "hero", "variant": "a", "experiment": "x"})
    assert again.placement == first.placement == PlacementInfo("hero", "a", "x")
    for other in ({"id": "hero", "variant": "b", "experiment": "x"},
                  {"id": "hero", "variant": "a", "experiment": ""},
                  {"id": "recs", "variant": "a", "experiment": "x"},
                  {"id": "hero", "variant": "a"}):
        got = build_context(placement=other).placement
        assert got == PlacementInfo(**{k: str(v) for k, v in other.items()}), other
    # values that are not text are converted on every call
    assert build_context(placement={"id": 1, "variant": 2.0, "experiment": None}
                         ).placement == PlacementInfo("1", "2.0", "None")
    # the context built without its __init__ is the one __init__ builds
    ctx = build_context(language="de", currency="EUR", placement=first.placement)
    assert ctx == RenderContext(language="de", currency="EUR", page=ctx.page,
                                visitor=ctx.visitor, placement=first.placement,
                                catalog=ctx.catalog, signals=ctx.signals)
