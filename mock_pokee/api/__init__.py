"""The thin HTTP layer: parse the request, call the domain, render the answer."""
