"""The demo shop "Szczyt" (an origin app for ``edge demo``, tests and benchmarks) and its data.

Modules: ``catalog.products()`` and ``contacts.contacts()`` are the seed data;
``shop.create_shop(catalog, shop_secret)`` is the ASGI app.

What the shop's pages give the edge (the markup contract a real shop would follow):

- every page: ``<meta name="edge:page-type" content="...">`` with one of
  home, category, product, cart, login, account, purchase (the thank-you page), notfound;
  category and product pages add ``edge:category`` ("top/sub"), product pages ``edge:product``
  (the SKU), the cart page ``edge:cart-items`` (SKUs, comma-separated) and ``edge:cart-value``.
- slots, each with its default content: ``hero`` (home), ``advisor`` (home, product),
  ``recommendations`` (home, category, product, cart). A slot's content never holds an element
  of the slot's own tag name, nor another slot.
- product page: ``<main data-edge-product data-edge-price data-edge-category>`` and a
  schema.org Product as JSON-LD in <head>.
- buttons: ``data-edge-add-to-cart="SKU"`` (real forms, POST /cart/add, work without JS),
  ``data-edge-like="SKU"``, ``data-edge-remove-from-cart="SKU"``.
- thank-you page (``/order/<id>``): ``<main data-edge-purchase="ORDER" data-edge-purchase-value
  data-edge-purchase-currency>``, rows with ``data-edge-purchase-item``, and
  ``<script type="application/json" id="edge-purchase">{"order_id","items","value","currency"}``.
- after login the cookie ``edge_login`` holds a token from
  ``edge.store.signing.make_login_token(shop_secret, contact_id, email=...)``.
- the body always ends with ``</body></html>`` and nothing after the footer.
"""
