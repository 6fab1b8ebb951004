"""What the airline's operations systems tell the gateway: disruptions of flights.

codes: booking references and flight numbers as stored; disruptions: the feed's posts
recorded (do_record_disruption) and the ones supervisors see (active_disruptions).
Layer: beside routing, assistant and access, under conversations (which will find a
customer's disruption by their booking); may import live, storage and shapes.
"""
