"""The browser front end (`geosim viz`): a Solara page over a live `GeoModel` and its baseline.

`geosim.plotting.maps` draws the map and `geosim.plotting.svg` the charts (plain arrays in);
`levers` maps the page's controls onto a scenario; `info` is the explanation panel's text; `app`
is the page, one run (and one baseline run) per browser session.
"""
