-- sqlite3 queries of the programs suite, run on a 100k-row table "people".
.headers on
.mode list
SELECT count(*), sum(age), round(avg(score), 4) FROM people;
CREATE INDEX people_city_age ON people(city, age);
CREATE INDEX people_tag ON people(tag);
CREATE INDEX people_name ON people(name);
SELECT city, count(*), min(age), max(age), round(avg(score), 3) FROM people GROUP BY city ORDER BY city;
SELECT tag, count(*) AS n FROM people GROUP BY tag HAVING n > 1900 ORDER BY n DESC, tag LIMIT 10;
SELECT id, name, score FROM people WHERE city = 'lyon' AND age BETWEEN 30 AND 32 ORDER BY score DESC, id LIMIT 15;
SELECT count(*) FROM people WHERE name LIKE 'ka%' OR name GLOB '*zo *';
CREATE TABLE cities AS SELECT city, count(*) AS n, avg(age) AS a FROM people GROUP BY city;
SELECT p.city, count(*), round(c.a, 2) FROM people p JOIN cities c ON c.city = p.city
	WHERE p.age > c.a GROUP BY p.city ORDER BY p.city;
SELECT id, city, score, rank() OVER (PARTITION BY city ORDER BY score DESC, id) AS r
	FROM people WHERE age = 40 ORDER BY city, r LIMIT 30;
SELECT city, group_concat(DISTINCT tag) FROM (SELECT city, tag FROM people WHERE id % 1000 = 0 ORDER BY tag)
	GROUP BY city ORDER BY city;
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < 50000)
	SELECT count(*), sum(x) FROM seq WHERE x NOT IN (SELECT age FROM people);
BEGIN;
UPDATE people SET score = score + 1 WHERE tag IN (SELECT tag FROM people GROUP BY tag ORDER BY count(*) LIMIT 5);
DELETE FROM people WHERE id % 7 = 0;
INSERT INTO people(name, city, age, score, tag) SELECT upper(name), city, age + 1, score / 2, tag FROM people WHERE id % 11 = 0;
COMMIT;
SELECT count(*), round(sum(score), 2), max(id) FROM people;
SELECT name, length(name), substr(name, 2, 4), replace(name, 'a', '@'), printf('%08.2f', score)
	FROM people ORDER BY name DESC LIMIT 10;
SELECT json_group_array(json_object('id', id, 'c', city)) FROM (SELECT id, city FROM people ORDER BY id LIMIT 20);
VACUUM;
PRAGMA integrity_check;
EXPLAIN QUERY PLAN SELECT * FROM people WHERE city = 'nice' AND age = 50;
