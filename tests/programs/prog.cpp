// C++ workload of the programs suite (compiled by g++ under the preload, then run):
// std::string, vector, map, unordered_map, shared_ptr, exceptions, iostreams,
// std::thread, std::sort. Usage: prog INPUT   (deterministic output)
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct Rec {
	long id;
	std::string key;
	long num;
	std::vector<std::string> words;
};

static std::vector<Rec> load(const char *path)
{
	std::ifstream in(path);
	if (!in)
		throw std::runtime_error(std::string("cannot open ") + path);
	std::vector<Rec> v;
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream ss(line);
		Rec r;
		std::string num, flt, text;
		std::string id;
		std::getline(ss, id, '\t');
		std::getline(ss, r.key, '\t');
		std::getline(ss, num, '\t');
		std::getline(ss, flt, '\t');
		std::getline(ss, text);
		r.id = std::stol(id);
		r.num = std::stol(num);
		std::istringstream ws(text);
		for (std::string w; ws >> w;)
			r.words.push_back(std::move(w));
		v.push_back(std::move(r));
	}
	return v;
}

struct Shape {
	virtual ~Shape() = default;
	virtual long area() const = 0;
};
struct Sq : Shape {
	long s;
	explicit Sq(long s) : s(s) {}
	long area() const override { return s * s; }
};
struct Rect : Shape {
	long w, h;
	Rect(long w, long h) : w(w), h(h) {}
	long area() const override { return w * h; }
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	std::vector<Rec> recs = load(argv[1]);
	std::cout << "records " << recs.size() << "\n";

	std::map<std::string, long> sum;
	std::unordered_map<std::string, int> wc;
	for (const Rec &r : recs) {
		sum[r.key] += r.num;
		for (const std::string &w : r.words)
			++wc[w];
	}
	std::cout << "keys " << sum.size() << " words " << wc.size() << "\n";
	std::vector<std::pair<std::string, int>> top(wc.begin(), wc.end());
	std::sort(top.begin(), top.end(), [](const auto &a, const auto &b) {
		return a.second != b.second ? a.second > b.second : a.first < b.first;
	});
	for (size_t i = 0; i < 10 && i < top.size(); i++)
		std::cout << "top " << top[i].first << " " << top[i].second << "\n";

	// Threads each building their own containers, joined into a set.
	std::mutex mu;
	std::set<std::string> merged;
	std::vector<std::thread> th;
	for (int t = 0; t < 4; t++)
		th.emplace_back([&, t] {
			std::vector<std::string> mine;
			for (size_t i = t; i < recs.size(); i += 4)
				if (recs[i].num % 97 == 0)
					mine.push_back(recs[i].key + ":" + std::to_string(recs[i].id % 1000));
			std::sort(mine.begin(), mine.end());
			std::lock_guard<std::mutex> g(mu);
			merged.insert(mine.begin(), mine.end());
		});
	for (auto &x : th)
		x.join();
	std::cout << "merged " << merged.size() << " " << *merged.begin() << " " << *merged.rbegin() << "\n";

	// Polymorphic objects through shared_ptr, exceptions thrown and caught.
	std::vector<std::shared_ptr<Shape>> shapes;
	for (long i = 0; i < 200000; i++) {
		if (i % 3)
			shapes.push_back(std::make_shared<Sq>(i % 100));
		else
			shapes.push_back(std::make_shared<Rect>(i % 50, i % 7));
	}
	long area = std::accumulate(shapes.begin(), shapes.end(), 0L,
	                            [](long a, const std::shared_ptr<Shape> &s) { return a + s->area(); });
	std::cout << "shapes " << shapes.size() << " " << area << "\n";
	int caught = 0;
	for (int i = 0; i < 20000; i++) {
		try {
			if (i % 3 == 0)
				throw std::out_of_range("index " + std::to_string(i));
			(void)std::stol("x" + std::to_string(i));
		} catch (const std::out_of_range &e) {
			caught += (int)std::string(e.what()).size() % 3;
		} catch (const std::invalid_argument &) {
			caught++;
		}
	}
	std::cout << "caught " << caught << "\n";

	std::string s;
	for (int i = 0; i < 100000; i++)
		s += std::to_string(i * 7 % 1000) + (i % 10 ? "," : "\n");
	std::cout << "string " << s.size() << " " << std::count(s.begin(), s.end(), '\n') << "\n";
	try {
		load("/nonexistent/file");
	} catch (const std::exception &e) {
		std::cout << "error " << e.what() << "\n";
	}
	return 0;
}
