"""Round layer, published pages: what `zkpor publish` writes for people to open in a browser.

`verify_page` writes the customer page verify.html (its JavaScript, CSS and template are package
data under `verify/`); `serve` serves a round's public folder on the loopback interface.
"""
