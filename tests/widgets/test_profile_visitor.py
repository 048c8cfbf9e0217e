"""The visitor and the page as the edge hands them to the widgets (edge.contexts)."""

from __future__ import annotations

from edge.contexts import page_info, visitor_info
from edge.page import Page, RequestHead
from edge.store.profile import Advisor, Loyalty, Profile
from widgets.context import CartItem, PageInfo, VisitorInfo, build_context
from widgets.registry import WidgetRegistry


def rich_profile() -> Profile:
    return Profile(
        id="v1", stable_id="v1", contact_id="c1",
        attributes={"first_name": "Krzysztof", "city": "Kraków"},
        advisor=Advisor(name="Anna Nowak", role="Doradca", phone="+48 601 234 567",
                        email="anna@example.com"),
        loyalty=Loyalty(points=1250, tier="Gold", next_tier="Platinum", points_to_next=750),
        product_views=[{"sku": "B"}, {"sku": "A"}, {"sku": ""}, {"sku": "B"}, {"sku": 7}, {}],
        cart=[{"sku": "C", "qty": 2, "price": 99.5}, {"sku": "", "qty": 1}, {"sku": "D"}],
        purchases=[{"items": [{"sku": "E"}, {"sku": "F"}]}, {"items": [{"sku": "E"}]},
                   {"value": 10}],
        likes=["G", "", "H"],
        preferences={"color": "blue"},
        categories={"shoes": 3.0},
        attribute_values={"color": {"blue": 2.0}},
    )


def test_visitor_info_holds_what_the_widgets_read() -> None:
    visitor = visitor_info(rich_profile(), known=True)
    assert isinstance(visitor, VisitorInfo)
    assert visitor.known and visitor.first_name == "Krzysztof"
    assert visitor.viewed == ("B", "A", "7")  # latest view of each sku first, no empty skus
    assert visitor.cart == (CartItem("C", 2, 99.5), CartItem("D", 1, 0.0))
    assert visitor.purchased == ("E", "F")
    assert visitor.liked == ("G", "H")
    assert visitor.advisor is not None and visitor.advisor["name"] == "Anna Nowak"
    assert visitor.loyalty == {"points": 1250, "tier": "Gold", "next_tier": "Platinum",
                               "points_to_next": 750}
    assert visitor.preferences == {"color": "blue"}
    assert visitor.category_affinities == {"shoes": 3.0}
    assert visitor.attribute_affinities == {"color": {"blue": 2.0}}
    assert visitor.has_history


def test_an_empty_profile_is_an_anonymous_visitor_without_history() -> None:
    visitor = visitor_info(Profile(id="new", stable_id="new"), known=False)
    assert visitor == VisitorInfo(known=False)
    assert not visitor.has_history and visitor.advisor is None and visitor.loyalty is None


def test_page_info_and_a_render_with_them() -> None:
    head = RequestHead("GET", "/p/A", "", {}, "127.0.0.1", host="shop.test")
    page = Page(head, 200, ("hero",), {"page-type": "product", "product": "A"})
    info = page_info(page)
    assert info == PageInfo(page_type="product", url="http://shop.test/p/A", sku="A")
    ctx = build_context(language="pl", page=info,
                        visitor=visitor_info(rich_profile(), known=True),
                        placement={"id": "hero"})
    html = WidgetRegistry.create().render("banner", ctx, {"greeting": True, "show_loyalty": True},
                                          include_css=False)
    assert html is not None and "Krzysztofie" in html and "Gold" in html


def test_the_advisor_card_shows_the_photo_stored_in_the_profile() -> None:
    profile = rich_profile()
    profile = Profile(**{**profile.__dict__, "advisor": Advisor(
        name="Anna Nowak", role="Doradca", phone="+48 601 234 567", email="anna@example.com",
        photo_url="/static/img/advisors/anna.svg")})
    ctx = build_context(language="pl", visitor=visitor_info(profile, known=True),
                        placement={"id": "advisor"})
    html = WidgetRegistry.create().render("advisor_card", ctx, {}, include_css=False)
    assert html is not None and 'src="/static/img/advisors/anna.svg"' in html
