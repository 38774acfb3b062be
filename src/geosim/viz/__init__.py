"""The browser front end (`geosim viz`): a Mesa SolaraViz page over a live `GeoModel`.

`geosim.plotting.maps` draws the map and charts (plain arrays in, figures out); `levers` maps the
page's controls onto a scenario; `app` is the SolaraViz page, one model per browser session.
"""
